using System.Management.Automation;
using Molt.Engine.Load;
using Molt.Engine.Sessions;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Copies the selected tables from the source into the target from one consistent snapshot, resumably.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "MoltBulkLoad", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BulkLoadTableResult), typeof(BulkLoadSummary))]
public sealed class StartMoltBulkLoadCommand : MoltLoadCmdlet
{
    /// <summary>Continue the run named by -FetchId: finished shards are kept, the rest are loaded again.</summary>
    [Parameter]
    public SwitchParameter Resume { get; set; }

    /// <summary>PostgreSQL source: create this logical replication slot at the load's snapshot, for replication to start from.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ReplicationSlot { get; set; }

    protected override bool ContinuesRecordedRun => Resume;

    protected override void ProcessRecord()
    {
        try
        {
            var sourceAddress = SourceAddress();
            var targetAddress = TargetAddress();
            LoadParameterConflicts.CheckResume(Resume, FetchId);
            var options = LoadOptions() with { Resume = Resume };
            var sourceOptions = LoadSourceOptions() with { ReplicationSlot = ReplicationSlot };
            using var log = OpenLog();
            BulkLoadSession? session = null;
            try
            {
                LoadPlan? plan = null;
                RunEngine(async ct =>
                {
                    session = await BulkLoadSession.OpenAsync(sourceAddress, targetAddress, options, sourceOptions, log, ct).ConfigureAwait(false);
                    plan = await session.PlanAsync(ct).ConfigureAwait(false);
                });
                var approved = Approve(plan!);
                if (approved.Tables.Count > 0)
                {
                    var metrics = StartMetrics(approved.FetchId);
                    try
                    {
                        var summary = Load(session!, approved, sourceAddress, targetAddress, metrics);
                        WriteObject(EngineOutput.ToOutput(summary, ReplicationSlot, sourceAddress, targetAddress));
                        WarnOfSlot();
                    }
                    finally
                    {
                        if (metrics is not null)
                        {
                            RunEngine(async _ => await metrics.DisposeAsync().ConfigureAwait(false));
                        }
                    }
                }
            }
            finally
            {
                if (session is not null)
                {
                    RunEngine(async _ => await session.DisposeAsync().ConfigureAwait(false));
                }
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }

    private void WarnOfSlot()
    {
        if (ReplicationSlot is not null)
        {
            WriteWarning($"The replication slot '{ReplicationSlot}' on the source keeps its WAL from the load's snapshot on, until replication " +
                $"consumes it. If no replication follows this load, drop it: SELECT pg_drop_replication_slot('{ReplicationSlot.Replace("'", "''")}');");
        }
    }
}
