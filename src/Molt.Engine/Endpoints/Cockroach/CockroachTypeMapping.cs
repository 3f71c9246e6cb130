using System.Text.RegularExpressions;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.Cockroach;

/// <summary>
/// Source column types spelled for CockroachDB, from its data-type reference
/// (https://www.cockroachlabs.com/docs/stable/data-types). Types are written in the spelling CockroachDB and PostgreSQL
/// share (INT4, FLOAT8, TEXT for STRING, BYTEA for BYTES: both aliases are listed on the STRING and BYTES pages), so the
/// DDL also runs on the PostgreSQL server the tests use. A type CockroachDB lacks becomes a lossless text or decimal
/// form, cast on the source and noted in the plan; one with no such form is refused before any data moves.
/// The wire type is always PostgreSQL's name for the value written by binary COPY; CockroachDB uses PostgreSQL's OIDs
/// and binary encodings for its built-in types.
/// </summary>
internal static partial class CockroachTypeMapping
{
    /// <summary>
    /// In CockroachDB, INT and INTEGER are INT8 (https://www.cockroachlabs.com/docs/stable/int, default_int_size = 8),
    /// STRING is TEXT and BYTES is BYTEA: a type-map file may use either spelling.
    /// </summary>
    private static readonly Dictionary<string, string> WireAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["int"] = "bigint", ["integer"] = "bigint", ["int64"] = "bigint", ["string"] = "text", ["bytes"] = "bytea", ["blob"] = "bytea",
        ["float"] = "double precision", ["json"] = "jsonb", ["geometry"] = "geometry", ["geography"] = "geography",
    };

    public static TargetType Map(TableModel table, ColumnModel column, SqlSyntax sourceSyntax, TypeMapOverrides overrides)
    {
        if (overrides.Find(table.Name, column) is { } overridden)
        {
            return new TargetType(overridden, WireType(overridden), false) { Note = "from the type-map file" };
        }

        if (column.Type.Name.ToLowerInvariant() is "json" or "jsonb" && !column.Type.IsArray && IsInKey(table, column.Name))
        {
            // https://www.cockroachlabs.com/docs/stable/jsonb#known-limitations: "You cannot use primary key, foreign key,
            // and unique constraints on JSONB values."
            throw Unsupported(table, column, "in a primary key, unique constraint or foreign key, which CockroachDB refuses on JSONB values");
        }

        return sourceSyntax == SqlSyntax.MySql ? FromMySql(table, column) : FromPostgres(table, column);
    }

    private static bool IsInKey(TableModel table, string column) =>
        table.PrimaryKey.Contains(column)
        || table.UniqueConstraints.Any(u => u.Columns.Contains(column))
        || table.Indexes.Any(i => i.IsUnique && !i.HasExpressions && i.Columns.Contains(column))
        || table.ForeignKeys.Any(f => f.Columns.Contains(column));

    /// <summary>The pgwire type name of a type as CockroachDB spells it.</summary>
    public static string WireType(string sql)
    {
        var array = sql.EndsWith("[]", StringComparison.Ordinal) ? "[]" : "";
        var name = Modifier().Replace(sql[..^array.Length], "").Trim();
        return (WireAliases.TryGetValue(name, out var alias) ? alias : PgWireTypeNames.WireType(name)) + array;
    }

    private static TargetType FromPostgres(TableModel table, ColumnModel column)
    {
        var type = column.Type;
        var mapped = type.UserTypeKind switch
        {
            // https://www.cockroachlabs.com/docs/stable/enum: CREATE TYPE ... AS ENUM; its OIDs differ from the source's.
            "enum" => new TargetType(PgWireSyntax.Quote(type.UserTypeName!), type.UserTypeName!.ToString(), true) { IsSentAsText = true },
            // No CREATE DOMAIN in CockroachDB (https://www.cockroachlabs.com/docs/stable/sql-feature-support): the base type.
            "domain" => Scalar(table, column, type.DomainBase!) with
            {
                Note = $"domain {type.UserTypeName} becomes its base type; its constraints are not copied",
            },
            "range" or "multirange" => AsText($"a {type.UserTypeKind} ({type.Name}), which CockroachDB lacks, is kept in its text form"),
            "composite" => AsText($"a composite type ({type.UserTypeName}), which CockroachDB lacks, is kept in its record text form"),
            _ => Scalar(table, column, type),
        };
        return type.IsArray ? Array(mapped) : mapped;
    }

    /// <summary>
    /// One-dimensional arrays of any non-array type (https://www.cockroachlabs.com/docs/stable/array). A value with more
    /// dimensions is refused by CockroachDB row by row and lands in _molt.fetch_exceptions: PostgreSQL's catalog does not
    /// say how many dimensions a column's values have.
    /// </summary>
    private static TargetType Array(TargetType element) =>
        new(element.Sql + "[]", element.WireType + "[]", element.IsBinaryCompatible) { Note = element.Note, IsSentAsText = element.IsSentAsText };

    private static TargetType Scalar(TableModel table, ColumnModel column, ColumnType type)
    {
        var modifier = ModifierOf(type.Declared);
        return type.Name switch
        {
            "smallint" => Same("INT2", "smallint"),
            "integer" => Same("INT4", "integer"),
            "bigint" => Same("INT8", "bigint"),
            "real" => Same("FLOAT4", "real"),
            "double precision" => Same("FLOAT8", "double precision"),
            "numeric" => Numeric(modifier),
            // https://www.cockroachlabs.com/docs/stable/sql-feature-support lists MONEY as unsupported; DECIMAL holds every value.
            "money" => new TargetType("DECIMAL", "numeric", false) { Note = "MONEY becomes DECIMAL: the amount is kept, its currency formatting is not" },
            "boolean" => Same("BOOL", "boolean"),
            "character varying" => Same("VARCHAR" + modifier, "character varying"),
            // An unbounded bpchar: CHAR alone means CHAR(1), and CockroachDB's own BPCHAR was limited to one character
            // before v24.1.7 (release notes v24.1.7), so TEXT, which holds every value.
            "character" when modifier == "" => new TargetType("TEXT", "text", true) { Note = "bpchar without a length becomes TEXT" },
            "character" => Same("CHAR" + modifier, "character"),
            "text" => Same("TEXT", "text"),
            "name" or "\"char\"" or "char" => new TargetType("TEXT", "text", false),
            "citext" => new TargetType("TEXT", "text", false) { Note = "citext becomes TEXT: comparisons become case-sensitive" },
            "bytea" => Same("BYTEA", "bytea"),
            "date" => Same("DATE", "date"),
            "time without time zone" => Same("TIME" + modifier, "time without time zone"),
            "time with time zone" => Same("TIMETZ" + modifier, "time with time zone"),
            "timestamp without time zone" => Same("TIMESTAMP" + modifier, "timestamp without time zone"),
            "timestamp with time zone" => Same("TIMESTAMPTZ" + modifier, "timestamp with time zone"),
            "interval" => Same("INTERVAL", "interval"),
            "uuid" => Same("UUID", "uuid"),
            "jsonb" => Same("JSONB", "jsonb"),
            // CockroachDB's JSON is JSONB (https://www.cockroachlabs.com/docs/stable/jsonb).
            "json" => new TargetType("JSONB", "jsonb", false) { Note = "JSON becomes JSONB: key order, duplicate keys and whitespace are normalised" },
            "inet" => Same("INET", "inet"),
            "cidr" => new TargetType("INET", "inet", false) { Note = "CIDR becomes INET (CockroachDB has no CIDR); address and mask are kept" },
            "bit" => Same("BIT" + modifier, "bit"),
            "bit varying" => Same("VARBIT" + modifier, "bit varying"),
            "oid" => Same("OID", "oid"),
            // https://www.cockroachlabs.com/docs/stable/tsvector (v23.1+).
            "tsvector" => SentAsText("TSVECTOR", "tsvector"),
            "tsquery" => SentAsText("TSQUERY", "tsquery"),
            // PostGIS types: https://www.cockroachlabs.com/docs/stable/spatial-data-overview; their text form is hex EWKB.
            "geometry" => SentAsText("GEOMETRY", "geometry"),
            "geography" => SentAsText("GEOGRAPHY", "geography"),
            "xml" or "macaddr" or "macaddr8" or "point" or "line" or "lseg" or "box" or "path" or "polygon" or "circle" or "pg_lsn" or "txid_snapshot"
                or "int4range" or "int8range" or "numrange" or "tsrange" or "tstzrange" or "daterange" =>
                AsText($"{type.Name}, which CockroachDB lacks, is kept in its text form"),
            _ => throw Unsupported(table, column, "a type Molt has no CockroachDB mapping for"),
        };
    }

    private static TargetType FromMySql(TableModel table, ColumnModel column)
    {
        var type = column.Type;
        var unsigned = type.IsUnsigned;
        return type.Name.ToLowerInvariant() switch
        {
            // CockroachDB has no unsigned integers: each becomes the next signed size that holds its whole range.
            "tinyint" or "year" => Exact("INT2", "smallint"),
            "smallint" => unsigned ? Exact("INT4", "integer") : Exact("INT2", "smallint"),
            "mediumint" => Exact("INT4", "integer"),
            "int" or "integer" => unsigned ? Exact("INT8", "bigint") : Exact("INT4", "integer"),
            "bigint" => unsigned ? Exact("DECIMAL(20,0)", "numeric") : Exact("INT8", "bigint"),
            "decimal" or "numeric" => Exact($"DECIMAL({type.Precision ?? 10},{type.Scale ?? 0})", "numeric"),
            "float" => Exact("FLOAT4", "real"),
            "double" or "real" => Exact("FLOAT8", "double precision"),
            "bit" => Exact($"VARBIT({type.Length ?? type.Precision ?? 1})", "bit varying"),
            "date" => Exact("DATE", "date"),
            "datetime" => Exact($"TIMESTAMP({Fsp(type)})", "timestamp without time zone"),
            "timestamp" => Exact($"TIMESTAMPTZ({Fsp(type)})", "timestamp with time zone"),
            "time" => new TargetType("INTERVAL", "interval", false) { Note = "MySQL TIME spans -838:59:59 to 838:59:59" },
            "char" or "varchar" => Exact($"VARCHAR({type.Length ?? 255})", "character varying"),
            "tinytext" or "text" or "mediumtext" or "longtext" => Exact("TEXT", "text"),
            "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" => Exact("BYTEA", "bytea"),
            "enum" => new TargetType("TEXT", "text", false) { Note = "with a CHECK of the ENUM's members" },
            "set" => new TargetType("TEXT", "text", false) { Note = "members comma-separated, as MySQL returns them" },
            "json" => Exact("JSONB", "jsonb"),
            // Sent as CSV text: hex EWKB with the SRID, the text form CockroachDB itself gives a geometry (srid-4326 shows
            // ST_SetSRID(ST_MakePoint(1,2), 4326) as 0101000020E6100000...), as for a PostGIS source (see SentAsText).
            "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" =>
                new TargetType(PgWireSpatial.GeometrySql(type, "GEOMETRY", upperCase: true), "geometry", false) { IsSentAsText = true },
            _ => throw Unsupported(table, column, "a type Molt has no CockroachDB mapping for"),
        };

        static TargetType Exact(string sql, string wire) => new(sql, wire, false);
    }

    /// <summary>
    /// DECIMAL(p,s) where CockroachDB takes it: "The precision must not be smaller than the scale", and scale is "the
    /// exact count of digits to the right of the decimal point" (https://www.cockroachlabs.com/docs/stable/decimal), so
    /// PostgreSQL 15's numeric(p,s) with s above p or below 0 becomes an unconstrained DECIMAL, which holds its values.
    /// </summary>
    private static TargetType Numeric(string modifier)
    {
        var parts = modifier.Trim('(', ')').Split(',');
        if (parts.Length == 2 && int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) is var scale
            && (scale < 0 || scale > int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)))
        {
            return new TargetType("DECIMAL", "numeric", true)
            {
                Note = $"numeric{modifier} becomes DECIMAL: CockroachDB takes no scale above the precision or below 0",
            };
        }

        return Same("DECIMAL" + modifier, "numeric");
    }

    private static TargetType Same(string sql, string wire) => new(sql, wire, true);

    /// <summary>
    /// The same type, sent as text: https://www.cockroachlabs.com/docs/stable/copy lists no type whose binary form it
    /// decodes, and these binary layouts are PostgreSQL's own (MOLT Fetch itself does not move spatial types,
    /// https://www.cockroachlabs.com/docs/stable/molt-fetch#limitations).
    /// </summary>
    private static TargetType SentAsText(string sql, string wire) => new(sql, wire, true) { IsSentAsText = true };

    private static TargetType AsText(string note) => new("TEXT", "text", false) { Note = note };

    private static string ModifierOf(string declared) => Modifier().Match(declared) is { Success: true } match ? match.Value.Replace(" ", "", StringComparison.Ordinal) : "";

    private static int Fsp(ColumnType type) => Math.Clamp(type.Precision ?? 0, 0, 6);

    private static MoltException Unsupported(TableModel table, ColumnModel column, string what, string suggested = "text") =>
        TypeMapOverrides.Unsupported(table, column, what, "CockroachDB", suggested);

    [GeneratedRegex(@"\(\s*\d+(\s*,\s*-?\d+)?\s*\)")]
    private static partial Regex Modifier();
}
