namespace Molt.Engine.Schema;

/// <summary>
/// What kind of value a column holds, whatever its database spells the type: set once by each catalog reader, so that
/// the flows (shard splitting, verify) ask the family instead of listing every database's type names. Type mapping
/// still reads the exact type names: it maps exact types.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name",
    Justification = "The families are named for the values, as SQL names them (integer, decimal, float), not for .NET types.")]
public enum ColumnTypeFamily
{
    /// <summary>Anything without a family of its own (money, xml, inet, ranges, PostgreSQL's geometric types, oid...).</summary>
    Other,
    Integer,
    /// <summary>Exact decimals: DECIMAL, numeric.</summary>
    Decimal,
    /// <summary>Binary floating point: FLOAT, DOUBLE, real, double precision.</summary>
    Float,
    /// <summary>PostgreSQL's boolean; MySQL has none (TINYINT(1) is an integer).</summary>
    Boolean,
    Text,
    Binary,
    Json,
    Date,
    /// <summary>Date and time, with or without a time zone (DATETIME, TIMESTAMP, timestamptz).</summary>
    Timestamp,
    /// <summary>A time of day (PostgreSQL time, timetz): not a duration, so not <see cref="Interval"/>.</summary>
    Time,
    /// <summary>A duration: PostgreSQL interval, and MySQL TIME, which spans -838:59:59 to 838:59:59.</summary>
    Interval,
    Bit,
    /// <summary>Labels from a declared list: a PostgreSQL enum, MySQL ENUM and SET.</summary>
    Enum,
    Uuid,
    /// <summary>Geometries with a spatial reference: PostGIS geometry and geography, MySQL's GEOMETRY, POINT, POLYGON...</summary>
    Spatial,
}
