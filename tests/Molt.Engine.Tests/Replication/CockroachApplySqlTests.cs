using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using static Molt.Engine.Tests.Replication.Apply;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// The CockroachDB applier's own SQL, exactly as written (no cluster here). What it shares with PostgreSQL (the batched
/// DELETE, UPDATE by key, plain INSERT) runs for real in <see cref="CockroachSharedApplySpellingTests"/>.
/// </summary>
public sealed class CockroachApplySqlTests
{
    private static readonly TableName Target = new("app", "Items");
    private static readonly CockroachApplySql Sql = new(CockroachTarget);

    [Fact]
    public void Upserts_are_one_multi_row_UPSERT_by_the_primary_key() =>
        Assert.Equal("""UPSERT INTO "app"."Items" ("id", "name") VALUES (@p0, @p1), (@p2, @p3)""", Sql.Dialect.Upsert(Target, ["id", "name"], ["id"], 2));

    [Fact]
    public void A_keyless_row_is_deleted_and_updated_one_at_a_time_with_LIMIT_1() =>
        Assert.Equal(
            [
                """DELETE FROM "app"."Items" WHERE "a" IS NOT DISTINCT FROM @p0 AND "j"::text IS NOT DISTINCT FROM @p1::text LIMIT 1""",
                """UPDATE "app"."Items" SET "a" = @p0 WHERE "a" IS NOT DISTINCT FROM @p1 AND "j"::text IS NOT DISTINCT FROM @p2::text LIMIT 1""",
            ],
            new[]
            {
                Sql.DeleteOneMatching(Target, [new MatchColumn("a", false), new MatchColumn("j", true)]),
                Sql.UpdateOneMatching(Target, ["a"], [new MatchColumn("a", false), new MatchColumn("j", true)]),
            });

    [Fact]
    public void The_targets_position_is_the_cluster_logical_timestamp_read_as_a_changefeed_cursor()
    {
        Assert.Equal("SELECT cluster_logical_timestamp()::STRING", Sql.TargetPositionQuery);
        // The decimal form the functions page describes: wall nanoseconds, then the ten-digit logical counter.
        var position = Assert.IsType<CockroachHlc>(Sql.ParseTargetPosition("1700000000123456789.0000000002"));
        Assert.Equal((1700000000123456789L, 2), (position.WallNanos, position.Logical));
        Assert.Equal(CockroachHlc.NotationName, position.Notation);
    }

    [Fact]
    public void A_source_truncate_is_applied_as_deletes_inside_the_transaction_referencing_tables_first()
    {
        var parent = Plan("app", "parent", ["id"], ("id", "integer"));
        var child = Plan("app", "child", ["id"], ("id", "integer"), ("parent_id", "integer"));
        child = child with { Source = child.Source with { ForeignKeys = [new ForeignKeyModel("fk", ["parent_id"], parent.Source.Name, ["id"])] } };

        Assert.Equal(["DELETE FROM \"app\".\"child\"", "DELETE FROM \"app\".\"parent\""], Sql.EmptyTables([parent, child], cascade: true));
    }

    [Fact]
    public void PostgreSQL_truncates_in_the_transaction_with_the_dialects_own_statement() =>
        Assert.Equal(["TRUNCATE TABLE \"app\".\"t\" CASCADE"],
            new PostgresApplySql(new Molt.Engine.Endpoints.Postgres.PostgresDialect()).EmptyTables([Plan("app", "t", ["id"], ("id", "integer"))], cascade: true));
}
