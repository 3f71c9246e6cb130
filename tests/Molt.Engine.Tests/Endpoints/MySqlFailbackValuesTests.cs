using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.MySql.Apply;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Endpoints;

/// <summary>
/// The target's values (PostgreSQL text under the change source's settings) converted back into MySQL column types,
/// for the forms the end-to-end failback test cannot make the loaded rows take (days in an interval, offsets, refusals).
/// </summary>
public sealed class MySqlFailbackValuesTests
{
    private static readonly ColumnModel Interval = Target("interval");

    [Theory]
    [InlineData("838:59:59", "838:59:59")]
    [InlineData("-12:34:56.789012", "-12:34:56.789012")]
    [InlineData("-00:00:00.001", "-0:00:00.001000")]
    [InlineData("1 day 02:00:00", "26:00:00")]
    [InlineData("-1 days +02:00:00", "-22:00:00")]
    [InlineData("3 days", "72:00:00")]
    [InlineData("00:00:00", "0:00:00")]
    public void An_interval_comes_back_as_a_TIME_of_hours_with_days_counted_as_24_hours(string interval, string time) =>
        Assert.Equal(time, MySqlFailbackValues.Convert(interval, Interval, Original("time", "time"), ZeroDateHandling.Null));

    [Fact]
    public void An_interval_of_months_is_refused_naming_the_column()
    {
        var refused = Assert.Throws<MoltException>(() => MySqlFailbackValues.Convert("1 mon 02:00:00", Interval, Original("time", "time"), ZeroDateHandling.Null));
        Assert.Equal("FailbackValueUnconvertible", refused.ErrorId);
        Assert.Contains("Column c (time)", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2038-01-19 03:14:07+00", "2038-01-19 03:14:07")]
    [InlineData("2024-02-29 23:30:00.5+05:30", "2024-02-29 18:00:00.500000")]
    [InlineData("2024-03-01 00:10:00-00:20", "2024-03-01 00:30:00")]
    public void A_timestamptz_comes_back_as_its_UTC_instant(string text, string utc) =>
        Assert.Equal(utc, MySqlFailbackValues.Convert(text, Target("timestamp with time zone"), Original("timestamp", "timestamp(6)"), ZeroDateHandling.Null));

    [Theory]
    [InlineData(ZeroDateHandling.Sentinel, "0001-01-01 00:00:00+00", "0000-00-00 00:00:00")]
    [InlineData(ZeroDateHandling.Null, "0001-01-01 00:00:00+00", "0001-01-01 00:00:00")]
    public void Only_under_Sentinel_is_the_sentinel_a_zero_date(ZeroDateHandling handling, string text, string written) =>
        Assert.Equal(written, MySqlFailbackValues.Convert(text, Target("timestamp with time zone"), Original("timestamp", "timestamp"), handling));

    [Fact]
    public void A_NULL_for_a_NOT_NULL_original_date_is_the_zero_date_DropNotNull_loaded_as_NULL()
    {
        var notNull = Original("datetime", "datetime") with { IsNullable = false };
        Assert.Equal("0000-00-00 00:00:00", MySqlFailbackValues.Convert(null, Target("timestamp without time zone"), notNull, ZeroDateHandling.DropNotNull));
        Assert.Equal(DBNull.Value, MySqlFailbackValues.Convert(null, Target("timestamp without time zone"), Original("datetime", "datetime"), ZeroDateHandling.DropNotNull));
    }

    [Fact]
    public void Numbers_come_back_in_the_original_types_range()
    {
        var unsigned = Original("bigint", "bigint unsigned") with { Type = new ColumnType("bigint", "bigint unsigned") { IsUnsigned = true } };
        Assert.Equal(ulong.MaxValue, MySqlFailbackValues.Convert("18446744073709551615", Target("numeric"), unsigned, ZeroDateHandling.Null));
        Assert.Equal(-128L, MySqlFailbackValues.Convert("-128", Target("smallint"), Original("tinyint", "tinyint"), ZeroDateHandling.Null));
        Assert.Equal(0b1000000001UL, MySqlFailbackValues.Convert("1000000001", Target("bit varying"), Original("bit", "bit(10)"), ZeroDateHandling.Null));
        Assert.Equal(1L, MySqlFailbackValues.Convert("t", Target("boolean"), Original("tinyint", "tinyint(1)"), ZeroDateHandling.Null));
        Assert.Equal(-2.5e300, MySqlFailbackValues.Convert("-2.5e+300", Target("double precision"), Original("double", "double"), ZeroDateHandling.Null));
        Assert.Equal("99999999999999999999999999999999999.999999999999999999999999999999",
            MySqlFailbackValues.Convert("99999999999999999999999999999999999.999999999999999999999999999999", Target("numeric"), Original("decimal", "decimal(65,30)"),
                ZeroDateHandling.Null));
    }

    [Theory]
    [InlineData("NaN", "double", "double precision")]
    [InlineData("Infinity", "float", "real")]
    [InlineData("NaN", "decimal", "numeric")]
    [InlineData("infinity", "datetime", "timestamp without time zone")]
    [InlineData("0044-03-15 BC", "date", "date")]
    public void A_value_MySQL_cannot_hold_is_refused(string text, string mysqlType, string targetType) =>
        Assert.Equal("FailbackValueUnconvertible",
            Assert.Throws<MoltException>(() => MySqlFailbackValues.Convert(text, Target(targetType), Original(mysqlType, mysqlType), ZeroDateHandling.Null)).ErrorId);

    [Fact]
    public void A_bytea_comes_back_as_its_bytes() =>
        Assert.Equal(new byte[] { 0, 0xFF, 0, 1 }, MySqlFailbackValues.Convert("\\x00ff0001", Target("bytea"), Original("binary", "binary(4)"), ZeroDateHandling.Null));

    [Theory]
    [InlineData(4326u, "geometry")]
    [InlineData(0u, "geometry")]
    [InlineData(4326u, "bytea")]
    public void A_geometry_comes_back_in_MySQLs_layout_with_its_SRID(uint srid, string targetType)
    {
        // POINT(1 2), little-endian WKB, after its SRID: MySQL's storage format.
        byte[] stored = [.. BitConverter.GetBytes(srid), 1, 1, 0, 0, 0, .. BitConverter.GetBytes(1.0), .. BitConverter.GetBytes(2.0)];
        var ewkb = Convert.ToHexString(MySqlSpatial.ToEwkb(stored));
        var original = new ColumnModel("g", 1, new ColumnType("point", "point") { Family = ColumnTypeFamily.Spatial }, true);
        Assert.Equal(stored, MySqlFailbackValues.Convert(targetType == "bytea" ? "\\x" + ewkb : ewkb, Target(targetType), original, ZeroDateHandling.Null));
    }

    private static ColumnModel Target(string type) => new("c", 1, new ColumnType(type, type), true);

    private static ColumnModel Original(string name, string declared)
    {
        var family = name switch
        {
            "date" => ColumnTypeFamily.Date,
            "datetime" or "timestamp" => ColumnTypeFamily.Timestamp,
            _ => ColumnTypeFamily.Other,
        };
        return new ColumnModel("c", 1, new ColumnType(name, declared) { Family = family }, true);
    }
}
