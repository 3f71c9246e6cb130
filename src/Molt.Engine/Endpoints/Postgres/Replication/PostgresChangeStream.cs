using System.Runtime.CompilerServices;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// A pgoutput stream from one logical slot. Text format, protocol 1, no streaming of in-progress transactions: the
/// walsender then spills a big transaction to disk itself and sends it at commit message by message, and each message is
/// yielded as it is decoded, so memory stays flat whatever the transaction's size.
/// </summary>
internal sealed class PostgresChangeStream : IChangeStream
{
    private readonly LogicalReplicationConnection replication;
    private readonly NpgsqlConnection catalog;
    private readonly string slotName;
    private readonly string publication;
    private readonly PostgresLsn from;
    private readonly PgOutputDecoder decoder;
    private long confirmed;
    private long lastCommitEnd;
    private volatile bool idle = true;
    private int reading;

    internal PostgresChangeStream(LogicalReplicationConnection replication, NpgsqlConnection catalog, string slotName, string publication, PostgresLsn from,
        IReadOnlyList<TableModel> tables, IReadOnlyDictionary<TableName, PgSnapshotVisibility> loaded)
    {
        this.replication = replication;
        this.catalog = catalog;
        this.slotName = slotName;
        this.publication = publication;
        this.from = from;
        decoder = new PgOutputDecoder(tables, from, new TypeNames(catalog), loaded);
    }

    /// <summary>
    /// The latest source position heard of: the walsender's keepalives carry its WAL end, which Npgsql keeps as the last
    /// received LSN, as it does the positions of the data messages.
    /// </summary>
    public SourcePosition? KnownEnd
    {
        get
        {
            var end = Math.Max((ulong)replication.LastReceivedLsn, (ulong)Interlocked.Read(ref lastCommitEnd));
            return end == 0 ? null : new PostgresLsn(end);
        }
    }

    /// <summary>
    /// True once the consumer has taken a transaction's Commit (or before the first) and no later transaction has begun.
    /// Npgsql reads the wire one message at a time as it is asked, so what <see cref="KnownEnd"/> says then lies before
    /// the commit of any transaction not yet delivered: confirming it releases nothing that is still to come.
    /// </summary>
    public bool IsIdle => idle;

    public async IAsyncEnumerable<Change> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref reading, 1) == 1)
        {
            throw new InvalidOperationException("A change stream is read once, by one consumer.");
        }

        var options = new PgOutputReplicationOptions(publication, PgOutputProtocolVersion.V1);
        var slot = new PgOutputReplicationSlot(slotName);
        var messages = replication.StartReplication(slot, options, cancellationToken, new NpgsqlLogSequenceNumber(from.Value));
        await using var enumerator = messages.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            PgOutputDecoder.Decoded decoded;
            try
            {
                if (!await NextMessageAsync(enumerator).ConfigureAwait(false))
                {
                    throw new TransientSourceException($"The source ended the replication stream of slot '{slotName}'.",
                        new IOException("START_REPLICATION completed."));
                }

                decoded = await decoder.DecodeAsync(enumerator.Current, cancellationToken).ConfigureAwait(false);
                if (!decoder.BetweenTransactions)
                {
                    idle = false;
                }
            }
            catch (Exception ex)
            {
                // A failed stream is never idle: nothing it last heard may be confirmed.
                idle = false;
                if (ChangeStreamErrors.Translate(ex, slotName, publication, cancellationToken) is { } translated)
                {
                    throw translated;
                }

                throw;
            }

            if (decoded.First is { } first)
            {
                yield return first;
            }

            if (decoded.Second is { } second)
            {
                yield return second;
            }

            if (decoded.First is CommitChange commit)
            {
                Interlocked.Exchange(ref lastCommitEnd, (long)((PostgresLsn)commit.Position).Value);
            }

            // Set only now, when the consumer asks for more after a Commit, or after a transaction that had nothing planned.
            if (decoder.BetweenTransactions)
            {
                idle = true;
            }
        }
    }

    /// <summary>
    /// The next message of the replication protocol. When the connection breaks under a pending read, Npgsql 10 resets
    /// the timeouts of a connector that is already gone as the read unwinds, and the lost connection surfaces as a
    /// NullReferenceException from inside Npgsql instead of the IOException: only Npgsql's code runs here, so it means that.
    /// </summary>
    private async ValueTask<bool> NextMessageAsync(IAsyncEnumerator<PgOutputReplicationMessage> messages)
    {
        try
        {
            return await messages.MoveNextAsync().ConfigureAwait(false);
        }
        catch (NullReferenceException ex)
        {
            throw new TransientSourceException($"The connection reading the replication slot '{slotName}' was lost.", ex);
        }
    }

    /// <summary>
    /// Records the position as written, flushed and applied, so the slot's confirmed_flush_lsn moves to it, and sends the
    /// status now. A position at or before one already confirmed is ignored (the slot never moves back).
    /// </summary>
    public async ValueTask ConfirmAsync(SourcePosition position, CancellationToken cancellationToken)
    {
        var lsn = position as PostgresLsn ?? throw new ArgumentException($"A PostgreSQL stream confirms postgres-lsn positions, not {position.Notation}.", nameof(position));
        var previous = Interlocked.Read(ref confirmed);
        if (lsn.Value <= (ulong)previous || Interlocked.CompareExchange(ref confirmed, (long)lsn.Value, previous) != previous)
        {
            return;
        }

        replication.SetReplicationStatus(new NpgsqlLogSequenceNumber(lsn.Value));
        if ((ulong)replication.LastReceivedLsn == 0)
        {
            // Nothing heard yet, so the stream may still be starting (a status update must not cut into START_REPLICATION):
            // Npgsql sends the position with its first status update.
            return;
        }

        try
        {
            await replication.SendStatusUpdate(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new TransientSourceException($"The replication stream of slot '{slotName}' is no longer running, so {lsn} could not be confirmed.", ex);
        }
        catch (Exception ex) when (ChangeStreamErrors.Translate(ex, slotName, publication, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await replication.DisposeAsync().ConfigureAwait(false);
        await catalog.DisposeAsync().ConfigureAwait(false);
    }
}
