using System.Management.Automation;
using Molt.Engine.Endpoints;
using Molt.Engine.Logging;

namespace Molt.PowerShell.Cmdlets;

/// <summary>A cmdlet that works on a source and a target: their addresses (taken by property name from piped load objects) and credentials.</summary>
public abstract class MoltEndpointsCmdlet : MoltCmdlet
{
    /// <summary>Taken by property name from piped load objects (a run to resume, a load's results to compare).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = string.Empty;

    /// <summary>Virtual so that a cmdlet whose target is optional (Test-MoltConnection) can say so; the addresses below then read its value.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public virtual string Target { get; set; } = string.Empty;

    [Parameter]
    [Credential]
    public PSCredential? SourceCredential { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>The source as the engine takes it: -Source, or an address piped for it, with -SourceCredential.</summary>
    protected EndpointAddress SourceAddress(string? text = null) =>
        EndpointParameter.Address(text ?? Source, SourceCredential, EndpointRole.Source);

    /// <summary>The target as the engine takes it: -Target, or an address piped for it, with -TargetCredential.</summary>
    protected EndpointAddress TargetAddress(string? text = null) =>
        EndpointParameter.Address(text ?? Target, TargetCredential, EndpointRole.Target);

    /// <summary>
    /// Runs a replication stream here or, with <paramref name="asJob"/>, as a <see cref="MoltReplicationJob"/>: opens the
    /// engine log (the job's when there is one) and the session, lets the cmdlet prepare the run on this thread (plan,
    /// ask; null ends without streaming), then streams. The session is disposed when the run ends, in the job too, or here
    /// when it never starts; a job's log lives as long as the job.
    /// </summary>
    /// <param name="source">The endpoints the job's Command names (without their passwords).</param>
    /// <param name="target">See <paramref name="source"/>.</param>
    /// <param name="jobName">The job's name until <paramref name="prepare"/> names the run.</param>
    private protected void RunReplication<TSession>(bool asJob, EndpointAddress source, EndpointAddress target, string jobName,
        Func<MoltLogSession, CancellationToken, Task<TSession>> open, Func<TSession, ReplicationRun?> prepare)
        where TSession : class, IAsyncDisposable
    {
        var job = asJob ? new MoltReplicationJob(MoltReplicationJob.CommandText(this, source, target), jobName) : null;
        var log = OpenLog(job is null ? null : job.OnLogEvent);
        TSession? session = null;
        try
        {
            RunEngine(async ct => session = await open(log, ct).ConfigureAwait(false));
            var run = prepare(session!);
            if (run is null)
            {
                return;
            }

            var opened = session!;
            async Task Work(IReplicationRecords records, CancellationToken ct)
            {
                await using (opened.ConfigureAwait(false))
                {
                    await run.Work(records, ct).ConfigureAwait(false);
                }
            }

            // The work owns the session from here: it disposes it when the stream ends, here or in the job.
            session = null;
            if (job is null)
            {
                RunEngine(ct => Work(PipelineRecords(), ct));
            }
            else
            {
                job.Name = run.JobName;
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
}

/// <summary>What a replication cmdlet streams once its session is open: the job's name under -AsJob, and the work itself.</summary>
internal sealed record ReplicationRun(string JobName, Func<IReplicationRecords, CancellationToken, Task> Work);
