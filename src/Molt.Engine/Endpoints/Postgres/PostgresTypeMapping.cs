using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>
/// Source column types spelled for a PostgreSQL target. A PostgreSQL source keeps its types (binary compatible, so
/// its COPY stream is relayed as it is); MySQL/MariaDB types map losslessly as the README's table documents. Spatial
/// types become PostGIS geometry where the target has PostGIS, otherwise bytea holding EWKB with the SRID.
/// </summary>
internal static class PostgresTypeMapping
{
    /// <summary>The note of a spatial column kept as bytea because the target has no PostGIS; the plan reports it.</summary>
    private const string WithoutPostGisNote =
        "the target has no PostGIS: kept as EWKB with its SRID in bytea (ST_GeomFromEWKB reads it once PostGIS is installed)";

    public static TargetType Map(TableModel table, ColumnModel column, SqlSyntax sourceSyntax, TypeMapOverrides overrides, bool hasPostGis)
    {
        if (overrides.Find(table.Name, column) is { } overridden)
        {
            var same = sourceSyntax == SqlSyntax.Postgres && string.Equals(overridden, column.Type.Declared, StringComparison.OrdinalIgnoreCase);
            return new TargetType(overridden, PgWireTypeNames.WireType(overridden), same) { Note = "from the type-map file" };
        }

        if (column.Type.Family == ColumnTypeFamily.Spatial && !hasPostGis)
        {
            // A PostGIS source's geometry cast to bytea on the source is its EWKB (PostGIS's bytea cast); MySQL's is converted.
            return new TargetType("bytea" + (column.Type.IsArray ? "[]" : ""), "bytea" + (column.Type.IsArray ? "[]" : ""), false)
            {
                Note = WithoutPostGisNote,
                IsReported = true,
            };
        }

        return sourceSyntax == SqlSyntax.MySql ? FromMySql(table, column) : FromPostgres(table, column);
    }

    private static TargetType FromPostgres(TableModel table, ColumnModel column)
    {
        var type = column.Type;
        var array = type.IsArray ? "[]" : "";
        if (type.Name == "xml")
        {
            // xml's output functions, text and binary alike, drop an XML declaration that only says version 1.0; its text
            // cast keeps the value as stored, and the target's xml input keeps what it is given.
            return new TargetType("xml" + array, "xml" + array, false) { SourceCast = "text" + array };
        }

        switch (type.UserTypeKind)
        {
            case "enum":
                return new TargetType(PgWireSyntax.Quote(type.UserTypeName!) + array, type.UserTypeName!.ToString() + array, true);
            case "domain":
                var baseType = type.DomainBase!;
                return new TargetType(baseType.Declared + array, baseType.Name + array, true)
                {
                    Note = $"domain {type.UserTypeName} becomes its base type; its constraints are not copied",
                };
            case "range" or "multirange" when type.UserTypeName!.Schema == "pg_catalog":
                return new TargetType(type.Declared, type.Name + array, true);
            case "composite" or "range" or "multirange":
                throw Unsupported(table, column, $"a {type.UserTypeKind} type");
            default:
                return new TargetType(type.Declared, type.Name + array, true);
        }
    }

    private static TargetType FromMySql(TableModel table, ColumnModel column)
    {
        var type = column.Type;
        var unsigned = type.IsUnsigned;
        return type.Name.ToLowerInvariant() switch
        {
            "tinyint" or "year" => Exact("smallint"),
            "smallint" => Exact(unsigned ? "integer" : "smallint"),
            "mediumint" => Exact("integer"),
            "int" or "integer" => Exact(unsigned ? "bigint" : "integer"),
            "bigint" => unsigned ? new TargetType("numeric(20,0)", "numeric", false) : Exact("bigint"),
            "decimal" or "numeric" => new TargetType($"numeric({type.Precision ?? 10},{type.Scale ?? 0})", "numeric", false),
            "float" => Exact("real"),
            "double" or "real" => Exact("double precision"),
            "bit" => new TargetType($"bit varying({type.Length ?? type.Precision ?? 1})", "bit varying", false),
            "date" => Exact("date"),
            "datetime" => new TargetType($"timestamp({Fsp(type)}) without time zone", "timestamp without time zone", false),
            "timestamp" => new TargetType($"timestamp({Fsp(type)}) with time zone", "timestamp with time zone", false),
            "time" => new TargetType("interval", "interval", false) { Note = "MySQL TIME spans -838:59:59 to 838:59:59" },
            "char" or "varchar" => new TargetType($"character varying({type.Length ?? 255})", "character varying", false),
            "tinytext" or "text" or "mediumtext" or "longtext" => Exact("text"),
            "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" => Exact("bytea"),
            "enum" => new TargetType("text", "text", false) { Note = "with a CHECK of the ENUM's members" },
            "set" => new TargetType("text", "text", false) { Note = "members comma-separated, as MySQL returns them" },
            "json" => Exact("jsonb"),
            "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" =>
                new TargetType(PgWireSpatial.GeometrySql(type, "geometry", upperCase: false), "geometry", false),
            _ => throw Unsupported(table, column, "a type Molt has no mapping for"),
        };

        static TargetType Exact(string name) => new(name, name, false);
    }

    private static int Fsp(ColumnType type) => Math.Clamp(type.Precision ?? 0, 0, 6);

    private static MoltException Unsupported(TableModel table, ColumnModel column, string what, string suggested = "text") =>
        TypeMapOverrides.Unsupported(table, column, what, "the target", suggested);
}
