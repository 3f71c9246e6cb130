using Molt.Engine.Schema;
using Molt.Engine.Sessions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// Every type and edge value the MySQL load maps, written to MariaDB before the load (the snapshot path) and again
/// while streaming (the binlog path): both copies must land identical on the PostgreSQL target.
/// </summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlTypeMatrixReplicationTests(MySqlReplicationFixture fixture)
{
    /// <summary>Streamed copies take the snapshot row's id + this.</summary>
    private const int StreamedOffset = 100;

    internal static readonly string[] Columns =
    [
        "ti", "tiu", "si", "siu", "mi", "miu", "i", "iu", "bi", "biu", "d1", "d65", "d5", "d18", "f", "db", "b1", "b64", "b10", "e", "s",
        "c", "vc", "vcbin", "vcl", "vclbin", "tl", "bn", "vb", "tt", "tx", "mt", "bl", "lb", "dt", "tm", "tm6", "tm3", "tm1", "dtm", "dtm6",
        "dtm2", "ts", "ts6", "y", "j", "c255", "dnn",
    ];

    internal const string Schema = """
        CREATE TABLE matrix (
          id INT PRIMARY KEY,
          ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
          i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
          d1 DECIMAL(10,2), d65 DECIMAL(65,30), d5 DECIMAL(5,0), d18 DECIMAL(18,9),
          f FLOAT, db DOUBLE, b1 BIT(1), b64 BIT(64), b10 BIT(10),
          e ENUM('a','b','c'), s SET('x','y','z'),
          c CHAR(10), vc VARCHAR(300), vcbin VARCHAR(20) COLLATE utf8mb4_bin, vcl VARCHAR(20) CHARACTER SET latin1,
          vclbin VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin, tl TEXT CHARACTER SET latin1,
          bn BINARY(4), vb VARBINARY(10), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, bl BLOB, lb LONGBLOB,
          dt DATE, tm TIME, tm6 TIME(6), tm3 TIME(3), tm1 TIME(1),
          dtm DATETIME, dtm6 DATETIME(6), dtm2 DATETIME(2), ts TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL,
          y YEAR, j JSON, c255 CHAR(255) CHARACTER SET utf8mb4,
          dnn DATETIME NOT NULL DEFAULT '2001-02-03 04:05:06'
        );
        """;

    /// <summary>Ids 1-4: the maxima, the minima, NULLs, zeros and zero dates (inserted under sql_mode = ''; dnn's zero date is set after).</summary>
    internal static readonly string[] Rows =
    [
        """
        (@id, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
         12345678.91, 99999999999999999999999999999999999.999999999999999999999999999999, 99999, 123456789.123456789,
         1.5, -2.5e300, b'1', 0xFFFFFFFFFFFFFFFF, b'1000000001', 'c', 'x,z',
         'abc', REPEAT('é', 300), 'Ab€c', CONVERT('café' USING latin1), CONVERT('Crème' USING latin1), CONVERT('naïve £5 ÿ' USING latin1),
         0x00FF0001, 0x0102, 'tiny', 'text 🙂', 'medium', 0x00FF, 0x01,
         '9999-12-31', '838:59:59', '-12:34:56.789012', '-00:00:00.001', '-25:00:00.5',
         '9999-12-31 23:59:59', '2024-02-29 12:34:56.123456', '1000-01-01 00:00:00.01', '2038-01-19 03:14:07', '1970-01-01 00:00:01.000001',
         2155, '{"a": [1, 2.5, "x"], "b": null}', 'x', '9999-12-31 23:59:59')
        """,
        """
        (@id, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
         -12345678.91, -0.000000000000000000000000000001, -99999, -0.000000001,
         -3.25, 1.7976931348623157e308, b'0', 0, 0, 'a', '',
         '', '', '', '', '', '', 0x00000000, '', '', '', '', '', '',
         '1000-01-01', '-838:59:59', '00:00:00.000001', '23:59:59.999', '-00:00:00.1',
         '1000-01-01 00:00:00', '1000-01-01 00:00:00.000001', '2000-01-01 00:00:00.99', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999',
         1901, '[]', REPEAT('€', 255), '1000-01-01 00:00:00')
        """,
        "(@id" + string.Concat(Enumerable.Repeat(", NULL", 47)) + ", DEFAULT)",
        """
        (@id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 0, 0, '', '',
         '', '', '', '', '', '', 0x00000000, '', '', '', '', '', '',
         '0000-00-00', '00:00:00', '00:00:00', '00:00:00', '00:00:00',
         '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '2024-00-15 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
         0, '{}', '', DEFAULT)
        """,
    ];

    [Theory]
    [InlineData(ZeroDateHandling.Null)]
    [InlineData(ZeroDateHandling.Sentinel)]
    [InlineData(ZeroDateHandling.DropNotNull)]
    public async Task Every_type_and_edge_value_lands_the_same_from_the_snapshot_and_from_the_binlog(ZeroDateHandling zeroDates)
    {
        // Under Null a NOT NULL column holding zero dates is refused at planning, so that row keeps dnn's default there.
        var zeroInNotNull = zeroDates != ZeroDateHandling.Null;
        var test = await fixture.NewCaseAsync($"matrix_{zeroDates.ToString().ToLowerInvariant()}", Schema);
        await InsertAsync(test, offset: 0, zeroInNotNull);
        var fetchId = $"matrix-{zeroDates}".ToLowerInvariant();
        var options = MySqlStreamCase.Options(fetchId) with { ZeroDates = zeroDates };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            await InsertAsync(test, StreamedOffset, zeroInNotNull);
            await ReplicationControl.RequestStopAsync(test.TargetAddress, fetchId, immediately: false, timeout.Token);
            var stopped = await running;
            Assert.Equal(Rows.Length, stopped.Inserts);
        }

        Assert.Equal(2 * Rows.Length, await test.TargetScalarAsync<long>("SELECT count(*) FROM matrix"));
        // Row by row, column by column, as the target prints them: the snapshot copy against the streamed one.
        var pairs = $"FROM matrix a JOIN matrix b ON b.id = a.id + {StreamedOffset}";
        Assert.Equal(Rows.Length, await test.TargetScalarAsync<long>($"SELECT count(*) {pairs}"));
        var differing = new List<string>();
        foreach (var column in Columns)
        {
            var rows = await test.TargetScalarAsync<string>(
                $"SELECT string_agg(a.id || ': ' || coalesce(a.\"{column}\"::text, 'NULL') || ' <> ' || coalesce(b.\"{column}\"::text, 'NULL'), '; ') " +
                $"{pairs} WHERE a.\"{column}\"::text IS DISTINCT FROM b.\"{column}\"::text");
            if (rows is not null)
            {
                differing.Add($"{column} ({rows})");
            }
        }

        Assert.True(differing.Count == 0, "Snapshot and binlog copies differ in " + string.Join(", ", differing));
        var text = string.Join(" || '|' || ", Columns.Select(c => $"coalesce(\"{c}\"::text, 'NULL')"));
        var exceptBothWays = $"""
            SELECT count(*) FROM (
              (SELECT id, {text} FROM matrix WHERE id < {StreamedOffset} EXCEPT SELECT id - {StreamedOffset}, {text} FROM matrix WHERE id > {StreamedOffset})
              UNION ALL
              (SELECT id - {StreamedOffset}, {text} FROM matrix WHERE id > {StreamedOffset} EXCEPT SELECT id, {text} FROM matrix WHERE id < {StreamedOffset})) d
            """;
        Assert.Equal(0, await test.TargetScalarAsync<long>(exceptBothWays));

        // The values themselves, where a wrong mapping would be equally wrong on both paths.
        Assert.Equal("18446744073709551615|99999999999999999999999999999999999.999999999999999999999999999999|-838:59:59",
            await test.TargetScalarAsync<string>($"SELECT biu::text || '|' || d65::text || '|' || (SELECT tm::text FROM matrix WHERE id = 2) FROM matrix WHERE id = {1 + StreamedOffset}"));
        Assert.Equal(await test.SourceScalarAsync<string>("SELECT HEX(CONCAT(vcl, tl)) FROM matrix WHERE id = 101"),
            Convert.ToHexString(System.Text.Encoding.Latin1.GetBytes(await test.TargetScalarAsync<string>("SELECT vcl || tl FROM matrix WHERE id = 101") ?? "")));
        var zeroDate = await test.TargetScalarAsync<string>($"SELECT coalesce(dt::text, 'NULL') || '|' || coalesce(dtm::text, 'NULL') FROM matrix WHERE id = {4 + StreamedOffset}");
        Assert.Equal(zeroDates == ZeroDateHandling.Sentinel ? "0001-01-01|0001-01-01 00:00:00" : "NULL|NULL", zeroDate);
    }

    internal static async Task InsertAsync(MySqlStreamCase test, int offset, bool zeroInNotNull)
    {
        var rows = Rows.Select((row, i) => row.Replace("@id", (i + 1 + offset).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        await test.SourceAsync("SET time_zone = '+00:00'; SET sql_mode = ''; INSERT INTO matrix VALUES " + string.Join(", ", rows));
        if (zeroInNotNull)
        {
            await test.SourceAsync($"SET sql_mode = ''; UPDATE matrix SET dnn = '0000-00-00 00:00:00' WHERE id = {4 + offset}");
        }
    }
}
