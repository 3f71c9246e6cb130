using System.Globalization;
using Molt.Engine.Replication;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Schema;
using Npgsql.Replication.PgOutput.Messages;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// Turns pgoutput messages into the change model, one message at a time (nothing of a transaction is held but its Begin,
/// until its first change of a planned table). Transactions that committed before the start position, and changes of
/// tables outside the plan, are dropped here; so are the changes a table's rows already hold because it was loaded from a
/// later snapshot than the start (<paramref name="loaded"/>: a resumed load's). A transaction with nothing planned in it
/// yields nothing at all.
/// </summary>
internal sealed class PgOutputDecoder(IReadOnlyList<TableModel> tables, PostgresLsn from, TypeNames typeNames,
    IReadOnlyDictionary<TableName, PgSnapshotVisibility> loaded)
{
    private readonly Dictionary<TableName, TableModel> planned = tables.ToDictionary(t => t.Name);
    private readonly Dictionary<uint, ReplicatedRelation?> relations = [];
    private readonly Dictionary<uint, PgSnapshotVisibility> loadedRelations = [];
    private bool skipping;
    private uint xid;
    private BeginChange? pendingBegin;
    private bool begun;

    /// <summary>The changes one message makes: none, one, or a transaction's Begin followed by its first change.</summary>
    public readonly record struct Decoded(Change? First, Change? Second)
    {
        public static Decoded None => default;
    }

    /// <summary>True between transactions: the last message was a Commit (or nothing yet).</summary>
    public bool BetweenTransactions { get; private set; } = true;

    public async ValueTask<Decoded> DecodeAsync(PgOutputReplicationMessage message, CancellationToken cancellationToken)
    {
        switch (message)
        {
            case BeginMessage begin:
                BetweenTransactions = false;
                // PostgreSQL's own rule for where decoding starts: a transaction whose commit record begins before the start
                // position is already applied (its end is at or before it).
                skipping = (ulong)begin.TransactionFinalLsn < from.Value;
                xid = begin.TransactionXid;
                pendingBegin = skipping ? null : new BeginChange(begin.TransactionXid.ToString(CultureInfo.InvariantCulture));
                begun = false;
                return Decoded.None;
            case CommitMessage commit:
                return Commit(commit);
            case RelationMessage relation:
                // Described even inside a skipped transaction: PostgreSQL sends each Relation once per stream.
                var name = new TableName(relation.Namespace, relation.RelationName);
                relations[relation.RelationId] = planned.TryGetValue(name, out var table)
                    ? await ReplicatedRelation.DescribeAsync(relation, table, typeNames, cancellationToken).ConfigureAwait(false)
                    : null;
                if (loaded.TryGetValue(name, out var snapshot))
                {
                    loadedRelations[relation.RelationId] = snapshot;
                }

                return Decoded.None;
            case InsertMessage insert when Target(insert.Relation) is { } relation:
            {
                var row = await RowImages.ReadAsync(insert.NewRow, relation.Table.Columns.Count, cancellationToken).ConfigureAwait(false);
                return Deliver(new RowChange(relation.Table, RowChangeKind.Insert) { New = row, Key = RowImages.Key(row, relation.KeyOrdinals) });
            }
            case UpdateMessage update when Target(update.Relation) is { } relation:
                return Deliver(await UpdateAsync(update, relation, cancellationToken).ConfigureAwait(false));
            case DeleteMessage delete when Target(delete.Relation) is { } relation:
                return Deliver(await DeleteAsync(delete, relation, cancellationToken).ConfigureAwait(false));
            case TruncateMessage truncate:
                return Truncate(truncate);
            case InsertMessage or UpdateMessage or DeleteMessage or TypeMessage or OriginMessage or LogicalDecodingMessage:
                // Npgsql skips the unread tuple of a change not delivered; types come from the plan, origins do not matter here.
                return Decoded.None;
            default:
                throw new InvalidOperationException($"pgoutput sent a {message.GetType().Name}, which a stream without streaming or two-phase never carries.");
        }
    }

    private Decoded Commit(CommitMessage commit)
    {
        var delivered = begun;
        skipping = false;
        pendingBegin = null;
        begun = false;
        BetweenTransactions = true;
        if (!delivered)
        {
            return Decoded.None;
        }

        var committedAt = new DateTimeOffset(DateTime.SpecifyKind(commit.TransactionCommitTimestamp, DateTimeKind.Utc));
        return new Decoded(new CommitChange(new PostgresLsn((ulong)commit.TransactionEndLsn), committedAt), null);
    }

    private Decoded Truncate(TruncateMessage truncate)
    {
        var names = new List<TableName>();
        foreach (var relation in truncate.Relations)
        {
            if (Target(relation) is { } target)
            {
                names.Add(target.Table.Name);
            }
        }

        return names.Count == 0
            ? Decoded.None
            : Deliver(new TruncateChange(names, (truncate.Options & TruncateMessage.TruncateOptions.Cascade) != 0));
    }

    private static async ValueTask<RowChange> UpdateAsync(UpdateMessage update, ReplicatedRelation relation, CancellationToken cancellationToken)
    {
        var columns = relation.Table.Columns.Count;
        var keys = relation.KeyOrdinals;
        switch (update)
        {
            case FullUpdateMessage full:
            {
                var old = await RowImages.ReadAsync(full.OldRow, columns, cancellationToken).ConfigureAwait(false);
                var row = RowImages.FillUnchanged(await RowImages.ReadAsync(full.NewRow, columns, cancellationToken).ConfigureAwait(false), old);
                var oldKey = RowImages.Key(old, keys);
                return new RowChange(relation.Table, RowChangeKind.Update)
                {
                    New = row, Old = old, Key = oldKey, OldKey = RowImages.SameKey(oldKey, RowImages.Key(row, keys)) ? null : oldKey,
                };
            }

            case IndexUpdateMessage indexed:
            {
                // The key tuple ('K') holds the identity columns only (the others are sent as nulls); it comes when the key
                // changed, or when a key value lives out of line (the new row then carries it as unchanged).
                var keyImage = await RowImages.ReadAsync(indexed.Key, columns, cancellationToken).ConfigureAwait(false);
                var row = await RowImages.ReadAsync(indexed.NewRow, columns, cancellationToken).ConfigureAwait(false);
                var oldKey = RowImages.Key(keyImage, keys);
                var newKey = RowImages.Key(row, keys);
                for (var i = 0; i < keys.Length; i++)
                {
                    if (!row.IsPresent(keys[i]))
                    {
                        newKey[i] = oldKey[i];
                    }
                }

                return new RowChange(relation.Table, RowChangeKind.Update)
                {
                    New = row, Key = oldKey, OldKey = RowImages.SameKey(oldKey, newKey) ? null : oldKey,
                };
            }

            default:
            {
                var row = await RowImages.ReadAsync(update.NewRow, columns, cancellationToken).ConfigureAwait(false);
                RequireKey(relation, row);
                return new RowChange(relation.Table, RowChangeKind.Update) { New = row, Key = RowImages.Key(row, keys) };
            }
        }
    }

    private static async ValueTask<RowChange> DeleteAsync(DeleteMessage delete, ReplicatedRelation relation, CancellationToken cancellationToken)
    {
        var columns = relation.Table.Columns.Count;
        switch (delete)
        {
            case FullDeleteMessage full:
            {
                var old = await RowImages.ReadAsync(full.OldRow, columns, cancellationToken).ConfigureAwait(false);
                return new RowChange(relation.Table, RowChangeKind.Delete) { Old = old, Key = RowImages.Key(old, relation.KeyOrdinals) };
            }

            case KeyDeleteMessage keyed:
            {
                var key = await RowImages.ReadAsync(keyed.Key, columns, cancellationToken).ConfigureAwait(false);
                RequireKey(relation, key);
                return new RowChange(relation.Table, RowChangeKind.Delete) { Key = RowImages.Key(key, relation.KeyOrdinals) };
            }

            default:
                throw new InvalidOperationException($"pgoutput sent a {delete.GetType().Name}, a delete without the deleted row's key.");
        }
    }

    /// <summary>A change whose key was not sent cannot be matched on the target: applying it anyway would corrupt the copy.</summary>
    private static void RequireKey(ReplicatedRelation relation, RowImage image)
    {
        if (RowImages.LacksKey(image, relation.KeyOrdinals))
        {
            throw new MoltException(MoltErrorKind.InvalidState, "UnidentifiableChange",
                $"The source sent a change of {relation.Table.Name} without its key values ({string.Join(", ", relation.Table.KeyColumns)}), so the row cannot be found on the target.",
                $"Set ALTER TABLE {PgWireSyntax.Quote(relation.Table.Name)} REPLICA IDENTITY FULL on the source, then load the table again.")
            { Target = relation.Table.Name.ToString() };
        }
    }

    private ReplicatedRelation? Target(RelationMessage relation)
    {
        if (skipping || !relations.TryGetValue(relation.RelationId, out var target) || target is null
            || (loadedRelations.TryGetValue(relation.RelationId, out var snapshot) && snapshot.Sees(xid)))
        {
            return null;
        }

        target.RequireUnchanged();
        return target;
    }

    private Decoded Deliver(Change change)
    {
        if (begun)
        {
            return new Decoded(change, null);
        }

        begun = true;
        var begin = pendingBegin!;
        pendingBegin = null;
        return new Decoded(begin, change);
    }
}
