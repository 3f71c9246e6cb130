using System.Management.Automation;
using Molt.Engine.Endpoints;
using Molt.Engine.Logging;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// A replication run by -AsJob in this process, on the PowerShell jobs API (Get-Job, Receive-Job, Wait-Job, Stop-Job),
/// as ThreadJob runs a script block: the cmdlet's objects, errors, warnings, progress and log lines go to the job's
/// streams instead of the pipeline, so a runbook starts a stream, does its other steps and stops it. Stop-Job cancels the
/// stream as Ctrl+C does (the open target transaction rolls back, the checkpoint stands) and returns once it has ended.
/// </summary>
public sealed class MoltReplicationJob : Job
{
    private readonly CancellationTokenSource stopping = new();
    private readonly object gate = new();
    private Task running = Task.CompletedTask;
    private string statusMessage = string.Empty;

    internal MoltReplicationJob(string command, string name)
        : base(command, name)
    {
        PSJobTypeName = nameof(MoltReplicationJob);
    }

    /// <summary>Why the job failed (its error record is in Error too).</summary>
    public override string StatusMessage => statusMessage;

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Progress.Count > 0 || Information.Count > 0;

    public override string Location => "localhost";

    public override void StopJob()
    {
        stopping.Cancel();
        running.GetAwaiter().GetResult();
    }

    /// <summary>
    /// The job's Command as Get-Job shows it: the cmdlet and its endpoints without their passwords, never the typed line,
    /// whose address may hold one.
    /// </summary>
    internal static string CommandText(PSCmdlet cmdlet, EndpointAddress source, EndpointAddress target) =>
        $"{cmdlet.MyInvocation.MyCommand.Name} {source.Display} {target.Display}";

    /// <summary>The engine log's lines as the job's verbose, debug and warning records.</summary>
    internal void OnLogEvent(MoltLogEvent logEvent)
    {
        var text = logEvent.Exception is null ? logEvent.Message : $"{logEvent.Message} ({logEvent.Exception})";
        lock (gate)
        {
            switch (logEvent.Level)
            {
                case MoltLogLevel.Debug:
                    Debug.Add(new DebugRecord(text));
                    break;
                case MoltLogLevel.Warning:
                    Warning.Add(new WarningRecord(text));
                    break;
                default:
                    Verbose.Add(new VerboseRecord(text));
                    break;
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> off the caller's thread; the job ends Completed, Stopped (Stop-Job) or Failed (its error in Error).</summary>
    /// <param name="log">Disposed when the work has ended: the job's log outlives the cmdlet that started it.</param>
    internal void Start(Func<IReplicationRecords, CancellationToken, Task> work, IDisposable log)
    {
        SetJobState(JobState.Running);
        var records = new JobRecords(this);
        running = Task.Run(async () =>
        {
            try
            {
                await work(records, stopping.Token).ConfigureAwait(false);
                SetJobState(JobState.Completed);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                SetJobState(JobState.Stopped);
            }
            catch (Exception ex)
            {
                var record = EngineErrorRecords.Of(ex, null, stopping: false);
                records.Post(() => records.WriteError(record));
                statusMessage = record.Exception.Message;
                SetJobState(JobState.Failed);
            }
            finally
            {
                log.Dispose();
            }
        });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            stopping.Dispose();
        }

        base.Dispose(disposing);
    }

    private sealed class JobRecords(MoltReplicationJob job) : IReplicationRecords
    {
        public void Post(Action write)
        {
            lock (job.gate)
            {
                write();
            }
        }

        public void WriteObject(object value) => job.Output.Add(PSObject.AsPSObject(value));

        public void WriteError(ErrorRecord record) => job.Error.Add(record);

        public void WriteWarning(string text) => job.Warning.Add(new WarningRecord(text));

        public void WriteProgress(ProgressRecord record) => job.Progress.Add(record);
    }
}
