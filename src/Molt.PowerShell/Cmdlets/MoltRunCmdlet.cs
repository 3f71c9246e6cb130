using System.Management.Automation;
using Molt.Engine.Metrics;

namespace Molt.PowerShell.Cmdlets;

/// <summary>A cmdlet that runs a load or a stream, which can be watched with Prometheus while it runs (-MetricsListenAddress).</summary>
public abstract class MoltRunCmdlet : MoltEndpointsCmdlet
{
    /// <summary>host:port on which the run's Prometheus metrics are served at /metrics while it runs.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MetricsListenAddress { get; set; }

    /// <summary>A malformed -MetricsListenAddress is refused before anything connects.</summary>
    protected override void BeginProcessing()
    {
        if (MetricsListenAddress is null)
        {
            return;
        }

        try
        {
            MetricsEndpoint.CheckAddress(MetricsListenAddress);
        }
        catch (Engine.MoltException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }

    /// <summary>
    /// Starts serving run <paramref name="fetchId"/>'s metrics when -MetricsListenAddress is given (null otherwise), here on
    /// the cmdlet's thread, so an address in use fails before anything is loaded or streamed; the caller disposes it when
    /// the run ends. Without the parameter the metrics library is never loaded.
    /// </summary>
    private protected MetricsEndpoint? StartMetrics(string fetchId) =>
        MetricsListenAddress is null ? null : MetricsEndpoint.Start(MetricsListenAddress, fetchId);
}
