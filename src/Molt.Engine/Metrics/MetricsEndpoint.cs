using System.Net;
using System.Net.Sockets;
using Molt.Engine.Load;
using Molt.Engine.Replication;
using Prometheus;

namespace Molt.Engine.Metrics;

/// <summary>
/// The metrics of one load or stream, served for Prometheus at <c>http://host:port/metrics</c> while the run lasts
/// (prometheus-net's stand-alone HttpListener server, bound to the given address only; on an IPv6 address, which
/// HttpListener cannot take, <see cref="SocketMetricServer"/>). Disposing it closes the port.
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private readonly IAsyncDisposable server;
    private readonly MoltMetrics metrics;

    private MetricsEndpoint(IAsyncDisposable server, MoltMetrics metrics, string address)
    {
        this.server = server;
        this.metrics = metrics;
        Address = address;
    }

    /// <summary>The address listened on, as given.</summary>
    public string Address { get; }

    /// <summary>Checks that <paramref name="listenAddress"/> is host:port, before anything connects; listens on nothing.</summary>
    /// <exception cref="MoltException"><c>MetricsAddressInvalid</c>.</exception>
    public static void CheckAddress(string listenAddress) => MetricsListenAddress.Parse(listenAddress);

    /// <summary>Starts serving the metrics of run <paramref name="fetchId"/> on <paramref name="listenAddress"/> (host:port).</summary>
    /// <exception cref="MoltException"><c>MetricsAddressInvalid</c> when the address is not host:port; <c>MetricsListenFailed</c> when it cannot be listened on (in use, not this machine's).</exception>
    public static MetricsEndpoint Start(string listenAddress, string fetchId)
    {
        var address = MetricsListenAddress.Parse(listenAddress);
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new MoltMetrics(registry, fetchId);
        try
        {
            return new MetricsEndpoint(Listen(address, registry), metrics, address.ToString());
        }
        catch (Exception ex) when (ex is HttpListenerException or SocketException)
        {
            throw new MoltException(MoltErrorKind.InUse, "MetricsListenFailed",
                $"Molt could not serve metrics on {address}: {ex.Message}",
                "Give -MetricsListenAddress a free port of an address of this machine (see which process holds it with 'ss -ltnp'), or leave it out.", ex)
            {
                Target = address.ToString(),
            };
        }
    }

    /// <summary>The load's callbacks with the metrics fed first.</summary>
    public BulkLoadCallbacks ObserveLoad(BulkLoadCallbacks callbacks) => metrics.Observe(callbacks);

    /// <summary>The stream's status reports with the metrics fed first.</summary>
    public IProgress<ReplicationStatus> ObserveStream(IProgress<ReplicationStatus>? status) => metrics.Observe(status);

    public ValueTask DisposeAsync() => server.DisposeAsync();

    private static IAsyncDisposable Listen(MetricsListenAddress address, CollectorRegistry registry)
    {
        if (address.IPv6 is { } v6)
        {
            return new SocketMetricServer(v6, address.Port, registry);
        }

        var server = new MetricServer(address.ListenerHost, address.Port, "metrics/", registry);
        try
        {
            server.Start();
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return new StoppingServer(server);
    }

    /// <summary>prometheus-net's server, stopped (its port closed) before it is disposed.</summary>
    private sealed class StoppingServer(IMetricServer server) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await server.StopAsync().ConfigureAwait(false);
            server.Dispose();
        }
    }
}
