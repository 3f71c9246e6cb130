using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// MySQL's spatial column types as PostGIS and CockroachDB spell a geometry column: <c>geometry(Subtype,SRID)</c>
/// (https://postgis.net/docs/using_postgis_dbmanagement.html#Geometry_Columns), so the target refuses a value of another
/// subtype, or of another SRID when the source declared one. CockroachDB takes the same spelling, unqualified only
/// (https://www.cockroachlabs.com/docs/stable/spatial-data-overview, known limitations: "use fully-unqualified names to refer
/// to data types with type modifiers (e.g., geometry(linestring,4326))"), which the type is written as.
/// </summary>
internal static class PgWireSpatial
{
    /// <summary>The name of a geometry column's subtype for a MySQL spatial DATA_TYPE; null for any other type.</summary>
    private static string? Subtype(string mySqlType) => mySqlType.ToLowerInvariant() switch
    {
        "geometry" => "Geometry",
        "point" => "Point",
        "linestring" => "LineString",
        "polygon" => "Polygon",
        "multipoint" => "MultiPoint",
        "multilinestring" => "MultiLineString",
        "multipolygon" => "MultiPolygon",
        "geometrycollection" => "GeometryCollection",
        _ => null,
    };

    /// <summary>
    /// The column type: the subtype and the SRID the source declares; without a declared SRID none is given (SRID 0 in
    /// the type modifier), which takes values of any SRID, as the source column does.
    /// </summary>
    public static string GeometrySql(ColumnType type, string geometry, bool upperCase)
    {
        var subtype = Subtype(type.Name) ?? throw new ArgumentException($"{type.Name} is not a MySQL spatial type.", nameof(type));
        subtype = upperCase ? subtype.ToUpperInvariant() : subtype;
        return type.Srid is { } srid ? $"{geometry}({subtype},{srid})"
            : string.Equals(subtype, "Geometry", StringComparison.OrdinalIgnoreCase) ? geometry : $"{geometry}({subtype})";
    }
}
