using System.Management.Automation;
using Molt.Engine.Checks;
using Molt.Engine.Endpoints;
using Molt.Engine.Sessions;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Connects to the source and target and checks the prerequisites of a migration flow.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "MoltConnection")]
[OutputType(typeof(ConnectionCheck))]
public sealed class TestMoltConnectionCommand : MoltEndpointsCmdlet
{
    /// <summary>Optional here: the source alone can be checked.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public override string Target { get; set; } = string.Empty;

    /// <summary>The flow whose prerequisites are checked.</summary>
    [Parameter]
    public Molt.MigrationFlow For { get; set; } = Molt.MigrationFlow.BulkLoad;

    /// <summary>With -For Failback: also check that failback of this migration can start on the target (its cutover, its slot).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FetchIdCompleter))]
    public string? FetchId { get; set; }

    protected override void ProcessRecord()
    {
        if (FetchId is not null && For != Molt.MigrationFlow.Failback)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"-FetchId names the migration whose failback is checked, so it needs -For Failback (not -For {For})."),
                "FetchIdNeedsFailback", ErrorCategory.InvalidArgument, FetchId));
        }

        var source = Check(EndpointRole.Source, null);
        if (Target.Length > 0)
        {
            Check(EndpointRole.Target, source);
        }
    }

    /// <summary>Checks one endpoint, and a target against the source it was checked with; returns the address when it passed the connection.</summary>
    private EndpointAddress? Check(EndpointRole role, EndpointAddress? source)
    {
        var flow = EnumMappings.MigrationFlow.ToEngine(For);
        try
        {
            var address = role == EndpointRole.Source ? SourceAddress() : TargetAddress();
            using var log = OpenLog();
            var tester = new ConnectionTester(log);
            ConnectionReport? report = null;
            bool? sameAsSource = null;
            RunEngine(async cancellationToken =>
            {
                report = await tester.TestAsync(address, role, flow, cancellationToken, role == EndpointRole.Target ? FetchId : null).ConfigureAwait(false);
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
                WriteObject(EngineOutput.ToOutput(check, report.Server, For));
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
