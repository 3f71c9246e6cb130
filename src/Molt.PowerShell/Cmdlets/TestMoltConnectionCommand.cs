using System.Management.Automation;
using Molt.Engine.Checks;
using Molt.Engine.Endpoints;
using Molt.Engine.Sessions;

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
        var source = Check(Source, SourceCredential, EndpointRole.Source, null);
        if (Target is not null)
        {
            Check(Target, TargetCredential, EndpointRole.Target, source);
        }
    }

    /// <summary>Checks one endpoint, and a target against the source it was checked with; returns the address when it passed the connection.</summary>
    private EndpointAddress? Check(string text, PSCredential? credential, EndpointRole role, EndpointAddress? source)
    {
        var flow = (Engine.Checks.MigrationFlow)(int)For;
        try
        {
            var address = EndpointAddress.Parse(text, credential?.GetNetworkCredential(), role);
            using var log = OpenLog();
            var tester = new ConnectionTester(log);
            ConnectionReport? report = null;
            bool? sameAsSource = null;
            RunEngine(async cancellationToken =>
            {
                report = await tester.TestAsync(address, role, flow, cancellationToken).ConfigureAwait(false);
                if (source is not null)
                {
                    sameAsSource = await DatabaseIdentity.AreSameAsync(source, address, cancellationToken).ConfigureAwait(false);
                }
            });
            var checks = report!.Checks.ToList();
            if (sameAsSource is { } same)
            {
                checks.Add(same
                    ? PrerequisiteCheck.Fail(role, address, "DistinctFromSource", $"the target is the source database ({source!.Display})",
                        "Name the target database the rows should go to (another database on the same server is fine).")
                    : PrerequisiteCheck.Pass(role, address, "DistinctFromSource", "the target is not the source database"));
            }

            foreach (var check in checks)
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

            return address;
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex, role.Label()));
            return null;
        }
    }
}
