using System.Runtime.CompilerServices;
using Molt.Engine.Replication;
using Molt.MySqlBinlog;
using Molt.MySqlBinlog.Events;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>
/// A binlog stream from one MySQL/MariaDB source, as a replica reads it. Events are decoded one at a time as the consumer
/// asks for them and each change is yielded as it is decoded, so a transaction of any size goes through in bounded
/// memory (one event at a time; an event is at most max_allowed_packet).
/// </summary>
internal sealed class MySqlChangeStream(BinlogClient client, BinlogStart start, BinlogChangeDecoder decoder, bool mariaDb, string source) : IChangeStream
{
    private volatile SourcePosition? knownEnd;
    private volatile bool idle = true;
    private int reading;

    /// <summary>
    /// The GTID state after the last event read: heartbeats (the source has sent everything) and transactions of tables
    /// outside the plan move it too, so an idle stream, or one reading only unplanned tables, still reaches a stop position.
    /// </summary>
    public SourcePosition? KnownEnd => knownEnd;

    /// <summary>
    /// True once the consumer has taken a transaction's Commit (or before the first) and no later transaction has begun.
    /// The client reads the socket one event at a time as it is asked, so what <see cref="KnownEnd"/> says then lies
    /// before the commit of any transaction not yet delivered.
    /// </summary>
    public bool IsIdle => idle;

    public async IAsyncEnumerable<Change> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref reading, 1) == 1)
        {
            throw new InvalidOperationException("A change stream is read once, by one consumer.");
        }

        await using var events = client.StreamAsync(start, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            IReadOnlyList<Change> changes;
            try
            {
                if (!await events.MoveNextAsync().ConfigureAwait(false))
                {
                    throw new TransientSourceException($"The source {source} ended the binlog stream.", new EndOfStreamException("The binlog dump ended."));
                }

                var e = events.Current;
                changes = await decoder.DecodeAsync(e, cancellationToken).ConfigureAwait(false);
                if (!decoder.BetweenTransactions)
                {
                    idle = false;
                }
                else if (e.Position is { } position && e is not (FormatDescriptionEvent or RotateEvent))
                {
                    knownEnd = MySqlPositions.Of(position, mariaDb);
                }
            }
            catch (Exception ex)
            {
                // A failed stream is never idle: nothing it last heard may be confirmed.
                idle = false;
                if (BinlogStreamErrors.Translate(ex, source, cancellationToken) is { } translated)
                {
                    throw translated;
                }

                throw;
            }

            foreach (var change in changes)
            {
                yield return change;
            }

            // Set only now, when the consumer asks for more after a Commit, or after a transaction that had nothing planned.
            if (decoder.BetweenTransactions)
            {
                idle = true;
            }
        }
    }

    /// <summary>
    /// Nothing to do: a binlog reader holds nothing on the source (there is no slot), and the source keeps or purges its
    /// binlogs by its own retention setting whatever a replica has applied. The checkpoint in the target is the only record.
    /// </summary>
    public ValueTask ConfirmAsync(SourcePosition position, CancellationToken cancellationToken) =>
        position is MariaDbGtidList or MySqlGtidPosition
            ? ValueTask.CompletedTask
            : throw new ArgumentException($"A MySQL or MariaDB stream confirms mysql-gtid or mariadb-gtid positions, not {position.Notation}.", nameof(position));

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
