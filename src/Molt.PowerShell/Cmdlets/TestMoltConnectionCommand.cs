using System.Management.Automation;
using Molt.Engine.Checks;
using Molt.Engine.Endpoints;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Connects to the source and target and checks the prerequisites of a migration flow.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "MoltConnection")]
[OutputType(typeof(ConnectionCheck))]
public sealed class TestMoltConnectionCommand : MoltCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = string.Empty;

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Target { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? SourceCredential { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>The flow whose prerequisites are checked.</summary>
    [Parameter]
    public Molt.MigrationFlow For { get; set; } = Molt.MigrationFlow.BulkLoad;

    protected override void ProcessRecord()
    {
        Check(Source, SourceCredential, EndpointRole.Source);
        if (Target is not null)
        {
            Check(Target, TargetCredential, EndpointRole.Target);
        }
    }

    private void Check(string text, PSCredential? credential, EndpointRole role)
    {
        var flow = (Engine.Checks.MigrationFlow)(int)For;
        try
        {
            var address = EndpointAddress.Parse(text, credential?.GetNetworkCredential());
            using var log = OpenLog();
            var tester = new ConnectionTester(log);
            ConnectionReport? report = null;
            RunEngine(async cancellationToken => report = await tester.TestAsync(address, role, flow, cancellationToken).ConfigureAwait(false));
            foreach (var check in report!.Checks)
            {
                WriteObject(new ConnectionCheck
                {
                    Role = role.ToString(),
                    Endpoint = check.Endpoint,
                    Server = report.Server.Kind.DisplayName(),
                    Version = report.Server.Version,
                    Flow = For.ToString(),
                    Check = check.Check,
                    Passed = check.Passed,
                    Detail = check.Detail,
                    Remedy = check.Remedy,
                });
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex, role.ToString()));
        }
    }
}
