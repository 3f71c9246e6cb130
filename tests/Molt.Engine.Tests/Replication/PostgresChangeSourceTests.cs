using Molt.Engine.Endpoints.Postgres.Replication;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Replication;

[Collection(PostgresReplicationCollection.Name)]
public sealed class PostgresChangeSourceTests(PostgresReplicationFixture fixture)
{
    [Fact]
    public async Task InsertsUpdatesAndDeletesArriveWithTheirKeysAndCommitPositions()
    {
        var database = await fixture.NewDatabaseAsync("dml");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2))");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "items");
        await setup.ExecuteAsync("BEGIN; INSERT INTO items VALUES (1, 'one', 1.50), (2, NULL, 2); COMMIT");
        await setup.ExecuteAsync("UPDATE items SET name = 'uno' WHERE id = 1");
        await setup.ExecuteAsync("DELETE FROM items WHERE id = 2");
        var end = await setup.ScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
        await using var reader = new ChangeReader(await setup.StartAsync());

        var insert = await reader.NextTransactionAsync();
        var update = await reader.NextTransactionAsync();
        var delete = await reader.NextTransactionAsync();

        Assert.Equal([RowChangeKind.Insert, RowChangeKind.Insert], insert.Rows.Select(r => r.Kind));
        var first = insert.Rows.First();
        Assert.Equal(new TableName("public", "items"), first.Table.Name);
        Assert.Equal(["id", "name", "price"], first.Table.Columns);
        Assert.Equal(["id"], first.Table.KeyColumns);
        Assert.Equal(["1", "one", "1.50"], first.New!.Values);
        Assert.Equal(["2", null, "2.00"], insert.Rows.Last().New!.Values);
        Assert.True(insert.Rows.Last().New!.IsPresent(1));
        Assert.Equal(["1"], first.Key);

        var updated = Assert.Single(update.Rows);
        Assert.Equal((RowChangeKind.Update, false), (updated.Kind, updated.KeyChanged));
        Assert.Equal(["1"], updated.Key);
        Assert.Equal(["1", "uno", "1.50"], updated.New!.Values);
        Assert.Null(updated.Old);

        var deleted = Assert.Single(delete.Rows);
        Assert.Equal((RowChangeKind.Delete, null), (deleted.Kind, deleted.New));
        Assert.Equal(["2"], deleted.Key);

        Assert.True(setup.Start.CompareTo(insert.Position) < 0);
        Assert.True(insert.Position.CompareTo(update.Position) < 0 && update.Position.CompareTo(delete.Position) < 0);
        Assert.True(delete.Position.CompareTo(PostgresLsn.Parse(end!)) <= 0);
        Assert.InRange(insert.Commit.CommittedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.NotEqual(insert.Begin.TransactionId, update.Begin.TransactionId);
    }

    [Fact]
    public async Task AnUpdateThatChangesThePrimaryKeyCarriesTheOldKey()
    {
        var database = await fixture.NewDatabaseAsync("keychange");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE pairs (a int, b text, v text, PRIMARY KEY (a, b)); INSERT INTO pairs VALUES (1, 'x', 'v')");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "pairs");
        await setup.ExecuteAsync("UPDATE pairs SET b = 'y' WHERE a = 1");
        await setup.ExecuteAsync("UPDATE pairs SET v = 'w' WHERE a = 1");
        await using var reader = new ChangeReader(await setup.StartAsync());

        var changed = Assert.Single((await reader.NextTransactionAsync()).Rows);
        var unchanged = Assert.Single((await reader.NextTransactionAsync()).Rows);

        Assert.True(changed.KeyChanged);
        Assert.Equal(["1", "x"], changed.Key);
        Assert.Equal(["1", "x"], changed.OldKey!);
        Assert.Equal(["1", "y", "v"], changed.New!.Values);
        Assert.False(unchanged.KeyChanged);
        Assert.Equal(["1", "y"], unchanged.Key);
    }

    [Fact]
    public async Task ATruncateNamesItsPlannedTablesAndTheCascadeFlag()
    {
        var database = await fixture.NewDatabaseAsync("truncate");
        await fixture.Server.ExecuteAsync(database, """
            CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
            INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);
            """);
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "parent", "child");
        await setup.ExecuteAsync("TRUNCATE parent CASCADE");
        await setup.ExecuteAsync("TRUNCATE child");
        await using var reader = new ChangeReader(await setup.StartAsync());

        var cascade = Assert.IsType<TruncateChange>(Assert.Single((await reader.NextTransactionAsync()).Changes));
        var plain = Assert.IsType<TruncateChange>(Assert.Single((await reader.NextTransactionAsync()).Changes));

        Assert.True(cascade.Cascade);
        Assert.Equal([new TableName("public", "child"), new TableName("public", "parent")], cascade.Tables.Order());
        Assert.False(plain.Cascade);
        Assert.Equal([new TableName("public", "child")], plain.Tables);
    }

    [Fact]
    public async Task AnUnchangedToastedValueArrivesAsUnchangedAndNeverAsNull()
    {
        var database = await fixture.NewDatabaseAsync("toast");
        await fixture.Server.ExecuteAsync(database, """
            CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
            ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
            """);
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "docs");
        await setup.ExecuteAsync("INSERT INTO docs SELECT 1, 'a', string_agg(md5(random()::text), '') FROM generate_series(1, 200)");
        await setup.ExecuteAsync("UPDATE docs SET title = 'b' WHERE id = 1");
        var body = await setup.ScalarAsync<string>("SELECT body FROM docs");
        await using var reader = new ChangeReader(await setup.StartAsync());

        var inserted = Assert.Single((await reader.NextTransactionAsync()).Rows);
        var updated = Assert.Single((await reader.NextTransactionAsync()).Rows);

        Assert.Equal(6400, body!.Length);
        Assert.Equal(body, inserted.New!.Values[2]);
        Assert.Equal(ColumnValueState.Unchanged, updated.New!.States[2]);
        Assert.False(updated.New.IsPresent(2));
        Assert.Equal(["1", "b"], updated.New.Values.Take(2));
        Assert.True(updated.New.IsPresent(1));
    }

    [Fact]
    public async Task AFullIdentityTableWithoutKeyIsMatchedByAllColumnsAndFillsUnchangedValuesFromTheOldRow()
    {
        var database = await fixture.NewDatabaseAsync("full");
        await fixture.Server.ExecuteAsync(database, """
            CREATE TABLE notes (author text, body text);
            ALTER TABLE notes ALTER COLUMN body SET STORAGE EXTERNAL;
            ALTER TABLE notes REPLICA IDENTITY FULL;
            INSERT INTO notes SELECT 'ann', string_agg(md5(random()::text), '') FROM generate_series(1, 200);
            """);
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "notes");
        var body = await setup.ScalarAsync<string>("SELECT body FROM notes");
        await setup.ExecuteAsync("UPDATE notes SET author = 'bob'");
        await setup.ExecuteAsync("DELETE FROM notes");
        await using var reader = new ChangeReader(await setup.StartAsync());

        var updated = Assert.Single((await reader.NextTransactionAsync()).Rows);
        var deleted = Assert.Single((await reader.NextTransactionAsync()).Rows);

        Assert.True(updated.Table.MatchesByAllColumns);
        Assert.Equal(["author", "body"], updated.Table.KeyColumns);
        Assert.Equal(["ann", body], updated.Key);
        Assert.Equal(["ann", body], updated.Old!.Values);
        Assert.Equal(["bob", body], updated.New!.Values);
        Assert.All(updated.New.States, s => Assert.Equal(ColumnValueState.Present, s));
        Assert.True(updated.KeyChanged);
        Assert.Equal(["bob", body], deleted.Key);
        Assert.Equal(["bob", body], deleted.Old!.Values);
    }

    [Fact]
    public async Task ATableWithoutPrimaryKeyOrFullIdentityIsRefusedNamingTheStatementThatFixesIt()
    {
        var database = await fixture.NewDatabaseAsync("nokey");
        await fixture.Server.ExecuteAsync(database, """
            CREATE SCHEMA "Sales"; CREATE TABLE "Sales"."Log" (v text); CREATE TABLE keyed (id int PRIMARY KEY); CREATE TABLE bare (v text);
            """);

        var error = await Assert.ThrowsAsync<MoltException>(() => ReplicationSetup.CreateAsync(fixture.Server, database, "Sales.Log", "keyed", "bare"));

        Assert.Equal(("NoReplicaIdentity", MoltErrorKind.InvalidState), (error.ErrorId, error.Kind));
        Assert.Contains("ALTER TABLE \"Sales\".\"Log\" REPLICA IDENTITY FULL;", error.Message);
        Assert.Contains("ALTER TABLE \"public\".\"bare\" REPLICA IDENTITY FULL;", error.Message);
        Assert.DoesNotContain("keyed", error.Message);
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(database, "SELECT count(*) FROM pg_publication"));
    }

    [Fact]
    public async Task APartitionedTableIsRefusedWhenAPartitionHasNoIdentityOfItsOwn()
    {
        var database = await fixture.NewDatabaseAsync("partnokey");
        await fixture.Server.ExecuteAsync(database, """
            CREATE TABLE logs (at date, line text) PARTITION BY RANGE (at);
            CREATE TABLE logs_old PARTITION OF logs FOR VALUES FROM ('2000-01-01') TO ('2025-01-01');
            ALTER TABLE logs REPLICA IDENTITY FULL; ALTER TABLE logs_old REPLICA IDENTITY FULL;
            CREATE TABLE logs_new PARTITION OF logs FOR VALUES FROM ('2025-01-01') TO ('2030-01-01');
            """);

        var error = await Assert.ThrowsAsync<MoltException>(() => ReplicationSetup.CreateAsync(fixture.Server, database, "logs"));

        Assert.Equal("NoReplicaIdentity", error.ErrorId);
        Assert.Contains("ALTER TABLE \"public\".\"logs_new\" REPLICA IDENTITY FULL;", error.Message);
        Assert.DoesNotContain("\"logs_old\"", error.Message);
        Assert.DoesNotContain("\"public\".\"logs\" REPLICA", error.Message);
    }

    [Fact]
    public async Task AReplicaIdentityUsingAnIndexKeysRowsByThatIndexColumns()
    {
        var database = await fixture.NewDatabaseAsync("usingindex");
        await fixture.Server.ExecuteAsync(database, """
            CREATE TABLE accounts (id int, email text NOT NULL, balance int);
            CREATE UNIQUE INDEX accounts_email ON accounts (email);
            ALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_email;
            INSERT INTO accounts VALUES (1, 'a@x', 10);
            """);
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "accounts");
        await setup.ExecuteAsync("UPDATE accounts SET email = 'b@x'");
        await setup.ExecuteAsync("DELETE FROM accounts");
        await using var reader = new ChangeReader(await setup.StartAsync());

        var updated = Assert.Single((await reader.NextTransactionAsync()).Rows);
        var deleted = Assert.Single((await reader.NextTransactionAsync()).Rows);

        Assert.Equal(["email"], updated.Table.KeyColumns);
        Assert.False(updated.Table.MatchesByAllColumns);
        Assert.Equal(["a@x"], updated.OldKey!);
        Assert.Equal(["1", "b@x", "10"], updated.New!.Values);
        Assert.Equal(["b@x"], deleted.Key);
    }

    [Fact]
    public async Task TwoSchemasWithTheSameTableNameStayApartAndAnUnplannedTableIsIgnored()
    {
        var database = await fixture.NewDatabaseAsync("schemas");
        await fixture.Server.ExecuteAsync(database, """
            CREATE SCHEMA a; CREATE SCHEMA b;
            CREATE TABLE a.t (id int PRIMARY KEY, v text); CREATE TABLE b.t (id int PRIMARY KEY, w int); CREATE TABLE public.other (id int PRIMARY KEY);
            """);
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "a.t", "b.t");
        await setup.ExecuteAsync("INSERT INTO other VALUES (1)");
        await setup.ExecuteAsync("BEGIN; INSERT INTO a.t VALUES (1, 'x'); INSERT INTO other VALUES (2); INSERT INTO b.t VALUES (1, 7); COMMIT");
        await using var reader = new ChangeReader(await setup.StartAsync());

        var transaction = await reader.NextTransactionAsync();

        Assert.Equal([new TableName("a", "t"), new TableName("b", "t")], transaction.Rows.Select(r => r.Table.Name));
        Assert.Equal(["1", "x"], transaction.Rows.First().New!.Values);
        Assert.Equal(["id", "w"], transaction.Rows.Last().Table.Columns);
        Assert.Equal(["1", "7"], transaction.Rows.Last().New!.Values);
        Assert.False(await reader.ArrivesWithinAsync(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task TransactionsOfTwoConcurrentSessionsArriveInCommitOrder()
    {
        var database = await fixture.NewDatabaseAsync("order");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE events (id int PRIMARY KEY, who text)");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "events");
        await using (var early = new Npgsql.NpgsqlConnection(fixture.Server.ConnectionString(database)))
        {
            await early.OpenAsync();
            await using var transaction = await early.BeginTransactionAsync();
            await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO events VALUES (1, 'began first')", early, transaction))
            {
                await insert.ExecuteNonQueryAsync();
            }

            await setup.ExecuteAsync("INSERT INTO events VALUES (2, 'committed first')");
            await transaction.CommitAsync();
        }

        await using var reader = new ChangeReader(await setup.StartAsync());

        var first = await reader.NextTransactionAsync();
        var second = await reader.NextTransactionAsync();

        Assert.Equal("committed first", first.Rows.Single().New!.Values[1]);
        Assert.Equal("began first", second.Rows.Single().New!.Values[1]);
        Assert.True(first.Position.CompareTo(second.Position) < 0);
    }

    [Fact]
    public async Task AStreamStartedAgainBeginsAfterTheGivenPosition()
    {
        var database = await fixture.NewDatabaseAsync("restart");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE seq (id int PRIMARY KEY)");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "seq");
        for (var i = 1; i <= 3; i++)
        {
            await setup.ExecuteAsync($"INSERT INTO seq VALUES ({i})");
        }

        PostgresLsn firstCommit;
        await using (var reader = new ChangeReader(await setup.StartAsync()))
        {
            firstCommit = (await reader.NextTransactionAsync()).Position;
            Assert.Equal("2", (await reader.NextTransactionAsync()).Rows.Single().Key[0]);
        }

        // Nothing was confirmed: the slot sends all three again, and the stream drops the one at the start position.
        await using var again = new ChangeReader(await setup.StartAsync(firstCommit));
        Assert.Equal("2", (await again.NextTransactionAsync()).Rows.Single().Key[0]);
        Assert.Equal("3", (await again.NextTransactionAsync()).Rows.Single().Key[0]);
    }

    [Fact]
    public async Task ConfirmingMovesTheSlotAndAnIdleSourceIsConfirmedToItsEnd()
    {
        var database = await fixture.NewDatabaseAsync("idle");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE watched (id int PRIMARY KEY); CREATE TABLE unwatched (id int PRIMARY KEY)");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "watched");
        await setup.ExecuteAsync("INSERT INTO watched VALUES (1)");
        await using var reader = new ChangeReader(await setup.StartAsync());
        var transaction = await reader.NextTransactionAsync();

        await reader.Stream.ConfirmAsync(transaction.Position, CancellationToken.None);
        await WaitForAsync(async () => (await setup.ConfirmedFlushAsync())!.CompareTo(transaction.Position) >= 0);

        // Only changes the stream does not carry: the source's end moves on, and the idle stream hears of it.
        await setup.ExecuteAsync("INSERT INTO unwatched SELECT generate_series(1, 1000)");
        var end = PostgresLsn.Parse((await setup.ScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"))!);
        reader.WaitInBackground();
        await WaitForAsync(() => Task.FromResult(reader.Stream.IsIdle && ((PostgresLsn?)reader.Stream.KnownEnd)?.CompareTo(end) >= 0));
        var knownEnd = reader.Stream.KnownEnd!;

        await reader.Stream.ConfirmAsync(knownEnd, CancellationToken.None);

        await WaitForAsync(async () => (await setup.ConfirmedFlushAsync())!.CompareTo((PostgresLsn)knownEnd) >= 0);
        Assert.True((await setup.ConfirmedFlushAsync())!.CompareTo(end) >= 0);
        var current = Assert.IsType<PostgresLsn>(await setup.Source.ReadCurrentEndAsync(CancellationToken.None));
        Assert.True(current.CompareTo(end) >= 0);
    }

    [Fact]
    public async Task ASchemaChangeStopsTheStreamNamingTheTableAndTheColumnBeforeTheChangedTransaction()
    {
        var database = await fixture.NewDatabaseAsync("ddl");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE people (id int PRIMARY KEY, name text)");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "people");
        await setup.ExecuteAsync("INSERT INTO people VALUES (1, 'a')");
        await setup.ExecuteAsync("ALTER TABLE people ADD COLUMN age int");
        await setup.ExecuteAsync("INSERT INTO people VALUES (2, 'b', 30)");
        await using var reader = new ChangeReader(await setup.StartAsync());

        Assert.Equal("1", (await reader.NextTransactionAsync()).Rows.Single().Key[0]);
        var error = await Assert.ThrowsAsync<SourceTableChangedException>(reader.NextAsync);

        Assert.Equal(("SchemaChanged", MoltErrorKind.SchemaMismatch), (error.ErrorId, error.Kind));
        Assert.Contains("public.people", error.Message);
        Assert.Contains("column \"age\" (integer) was added", error.Message);
    }

    [Fact]
    public async Task AMissingSlotIsReportedByNameWithWhatToDo()
    {
        var database = await fixture.NewDatabaseAsync("noslot");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE t (id int PRIMARY KEY)");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "t");
        await using var source = new PostgresChangeSource(setup.Address, "molt_no_such_slot", setup.Publication);

        var error = await Assert.ThrowsAsync<MoltException>(() => source.StartAsync(setup.Start, setup.Tables, CancellationToken.None));

        Assert.Equal(("ReplicationSlotNotFound", MoltErrorKind.NotFound), (error.ErrorId, error.Kind));
        Assert.Contains("'molt_no_such_slot'", error.Message);
        Assert.Contains("Start-MoltReplication", error.Message);
    }

    [Fact]
    public async Task ALostConnectionIsATransientErrorAndANewStreamCarriesOn()
    {
        var database = await fixture.NewDatabaseAsync("lost");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE t (id int PRIMARY KEY)");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "t");
        await using var reader = new ChangeReader(await setup.StartAsync());
        reader.WaitInBackground();
        await WaitForAsync(async () => await setup.ScalarAsync<bool>($"SELECT active FROM pg_replication_slots WHERE slot_name = '{setup.Slot}'"));

        await setup.ExecuteAsync($"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '{setup.Slot}'");

        await Assert.ThrowsAsync<TransientSourceException>(reader.NextAsync);
        Assert.False(reader.Stream.IsIdle);

        // The loop's answer: a new stream from the checkpoint, which carries on.
        await setup.ExecuteAsync("INSERT INTO t VALUES (1)");
        await WaitForAsync(async () => !await setup.ScalarAsync<bool>($"SELECT active FROM pg_replication_slots WHERE slot_name = '{setup.Slot}'"));
        await using var again = new ChangeReader(await setup.StartAsync());
        Assert.Equal("1", (await again.NextTransactionAsync()).Rows.Single().Key[0]);
    }

    [Fact]
    public async Task APartitionedTableArrivesUnderItsOwnNameAndGeneratedColumnsAreLeftOut()
    {
        var database = await fixture.NewDatabaseAsync("partitioned");
        await fixture.Server.ExecuteAsync(database, """
            CREATE TABLE measures (id int, at date, v int, doubled int GENERATED ALWAYS AS (v * 2) STORED, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
            CREATE TABLE measures_2025 PARTITION OF measures FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE measures_2026 PARTITION OF measures FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            """);
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "measures");
        await setup.ExecuteAsync("INSERT INTO measures VALUES (1, '2025-06-01', 5), (2, '2026-06-01', 6)");
        await setup.ExecuteAsync("UPDATE measures SET v = 7 WHERE id = 2");
        await using var reader = new ChangeReader(await setup.StartAsync());

        var inserts = (await reader.NextTransactionAsync()).Rows.ToList();
        var update = Assert.Single((await reader.NextTransactionAsync()).Rows);

        Assert.All(inserts, r => Assert.Equal(new TableName("public", "measures"), r.Table.Name));
        Assert.Equal(["id", "at", "v"], inserts[0].Table.Columns);
        Assert.Equal(["1", "2025-06-01", "5"], inserts[0].New!.Values);
        Assert.Equal(["2", "2026-06-01"], update.Key);
    }

    [Fact]
    public async Task AnAlterationThatKeepsTheColumnsDoesNotStopTheStreamButATypeChangeDoes()
    {
        var database = await fixture.NewDatabaseAsync("benign");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE t (id int PRIMARY KEY, n int)");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "t");
        await setup.ExecuteAsync("INSERT INTO t VALUES (1, 1)");
        await setup.ExecuteAsync("ALTER TABLE t ADD CONSTRAINT positive CHECK (n > 0); ALTER TABLE t REPLICA IDENTITY FULL");
        await setup.ExecuteAsync("UPDATE t SET n = 2");
        await setup.ExecuteAsync("ALTER TABLE t ALTER COLUMN n TYPE bigint");
        await setup.ExecuteAsync("INSERT INTO t VALUES (2, 2)");
        await using var reader = new ChangeReader(await setup.StartAsync());

        Assert.Equal("1", (await reader.NextTransactionAsync()).Rows.Single().Key[0]);
        var update = Assert.Single((await reader.NextTransactionAsync()).Rows);
        var error = await Assert.ThrowsAsync<SourceTableChangedException>(reader.NextAsync);

        Assert.Equal(["id"], update.Table.KeyColumns);
        Assert.Equal(["1", "1"], update.Old!.Values);
        Assert.False(update.KeyChanged);
        Assert.Equal("SchemaChanged", error.ErrorId);
        Assert.Contains("column \"n\" changed type from integer to bigint", error.Message);
    }

    [Fact]
    public async Task AStreamIdleForLongerThanTheSendersTimeoutStaysConnected()
    {
        var database = await fixture.NewDatabaseAsync("timeout");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE t (id int PRIMARY KEY)");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "t");
        await fixture.Server.ExecuteAsync("postgres", "ALTER SYSTEM SET wal_sender_timeout = '2s'; SELECT pg_reload_conf()");
        try
        {
            await using var reader = new ChangeReader(await setup.StartAsync());
            Assert.False(await reader.ArrivesWithinAsync(TimeSpan.FromSeconds(7)));

            await setup.ExecuteAsync("INSERT INTO t VALUES (1)");

            Assert.Equal("1", (await reader.NextTransactionAsync()).Rows.Single().Key[0]);
        }
        finally
        {
            await fixture.Server.ExecuteAsync("postgres", "ALTER SYSTEM RESET wal_sender_timeout; SELECT pg_reload_conf()");
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not come true within two minutes.");
            await Task.Delay(100);
        }
    }
}
