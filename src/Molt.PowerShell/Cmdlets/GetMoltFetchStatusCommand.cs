using System.Management.Automation;
using Molt.Engine.Endpoints;
using Molt.Engine.Sessions;
using Molt.Engine.State;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Lists the bulk-load runs recorded in the target's _molt schema, with their failed tables and exceptions.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "MoltFetchStatus")]
[OutputType(typeof(FetchRunStatus))]
public sealed class GetMoltFetchStatusCommand : MoltCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = string.Empty;

    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FetchIdCompleter))]
    public string? FetchId { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var address = EndpointAddress.Parse(Target, TargetCredential?.GetNetworkCredential(), EndpointRole.Target);
            IReadOnlyList<FetchRunReport> reports = [];
            RunEngine(async ct => reports = await FetchStatusSession.ReadAsync(address, FetchId, ct).ConfigureAwait(false));
            var statuses = reports.Select(report => new FetchRunStatus
            {
                FetchId = report.Run.FetchId,
                Status = Statuses.Load(report.Run.Status),
                Started = report.Run.StartedAt,
                Finished = report.Run.FinishedAt,
                Source = report.Run.Source,
                SourceKind = report.Run.SourceKind,
                SnapshotPosition = report.Run.SnapshotPosition,
                TableHandling = report.Run.TableHandling,
                Tables = report.Tables.Count,
                ShardsDone = report.Shards.Count(s => s.IsDone),
                ShardsTotal = report.Shards.Count,
                Rows = report.Shards.Sum(s => s.Rows),
                FailedTables = [.. report.FailedTables],
                PendingTables = [.. report.PendingTables],
                Exceptions = report.Exceptions.Select(e => new LoadFailure
                {
                    Table = e.SourceTable,
                    Shard = e.Shard,
                    Stage = e.Stage,
                    SqlState = e.SqlState,
                    Message = e.Message,
                    RowKey = e.RowKey,
                }).ToArray(),
                Target = address.Display,
            }).ToList();
            if (FetchId is not null && statuses.Count == 0)
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"The target has no load run with id '{FetchId}'."), "FetchRunNotFound",
                    ErrorCategory.ObjectNotFound, FetchId));
                return;
            }

            foreach (var status in statuses)
            {
                WriteObject(status);
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex));
        }
    }
}
