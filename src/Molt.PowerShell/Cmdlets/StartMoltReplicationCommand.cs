using System.Management.Automation;
using Molt.Engine.Load;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Loads the selected tables from a PostgreSQL source's slot snapshot, then streams every later change into the target until stopped.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "MoltReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BulkLoadTableResult), typeof(BulkLoadSummary), typeof(ReplicationStatus), typeof(MoltReplicationJob))]
public sealed class StartMoltReplicationCommand : MoltLoadCmdlet
{
    /// <summary>The logical replication slot to create on the source (default molt_&lt;fetchid&gt;).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SlotName { get; set; }

    /// <summary>The publication to create on the source (default molt_&lt;fetchid&gt;).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PublicationName { get; set; }

    [Parameter]
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Parameter]
    public SwitchParameter StopWhenCaughtUp { get; set; }

    /// <summary>A source position (an LSN such as 16/B374D848): drain up to it, then stop.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StopAt { get; set; }

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            ReplicationParameters.CheckInterval(StatusInterval);
            var sourceAddress = SourceAddress();
            var targetAddress = TargetAddress();
            var options = new ReplicationOptions
            {
                Load = LoadOptions(),
                FetchId = FetchId,
                SlotName = SlotName,
                PublicationName = PublicationName,
                ZeroDates = LoadSourceOptions().ZeroDates,
                StatusInterval = StatusInterval,
                StopWhenCaughtUp = StopWhenCaughtUp,
                StopAt = StopAt,
            };
            var job = AsJob ? new MoltReplicationJob(MoltReplicationJob.CommandText(this, sourceAddress, targetAddress), "Replication") : null;
            var log = OpenLog(job is null ? null : job.OnLogEvent);
            ReplicationSession? session = null;
            try
            {
                LoadPlan? plan = null;
                RunEngine(async ct =>
                {
                    session = await ReplicationSession.OpenAsync(sourceAddress, targetAddress, options, log, ct).ConfigureAwait(false);
                    plan = await session.PlanAsync(ct).ConfigureAwait(false);
                });
                var approved = Approve(plan!);
                if (approved.Tables.Count == 0)
                {
                    return;
                }

                var opened = session!;
                var stream = new ReplicationStream(opened, sourceAddress, targetAddress);
                Task Work(IReplicationRecords records, CancellationToken ct)
                {
                    var (callbacks, progress) = LoadCallbacks(approved, records, sourceAddress, targetAddress);
                    return stream.RunAsync((report, token) => opened.StartAsync(approved, callbacks,
                        summary => records.Post(() =>
                        {
                            progress.Completed();
                            records.WriteObject(EngineOutput.ToOutput(summary, opened.Slot, sourceAddress, targetAddress));
                        }), report, token), records, ct);
                }

                // The stream owns the session from here: it disposes it when the stream ends, here or in the job.
                session = null;
                if (job is null)
                {
                    RunEngine(ct => Work(PipelineRecords(), ct));
                }
                else
                {
                    job.Name = $"Replication {opened.FetchId}";
                    JobRepository.Add(job);
                    job.Start(Work, log);
                    log = null;
                    WriteObject(job);
                    job = null;
                }
            }
            finally
            {
                if (session is not null)
                {
                    RunEngine(async _ => await session.DisposeAsync().ConfigureAwait(false));
                }

                log?.Dispose();
                job?.Dispose();
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }
}
