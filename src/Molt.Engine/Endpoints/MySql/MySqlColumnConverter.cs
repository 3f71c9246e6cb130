using System.Collections;
using System.Globalization;
using Molt.Engine.Load;
using Npgsql;
using NpgsqlTypes;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// The conversion of one source column's values (<see cref="MySqlValueTable"/>), with a sink per way of writing the
/// target: each converts the value once, then spells that one target value. Throws <see cref="RowRejectedException"/> for
/// a value that must not be loaded (a zero date under Reject, a number out of the target's range).
/// </summary>
internal abstract class MySqlColumnConverter(string wireType)
{
    /// <summary>The target column's pgwire type name, which the COPY writes and a parameter is declared as.</summary>
    public string WireType { get; } = wireType;

    /// <summary>False when binary COPY cannot carry the value (a DECIMAL beyond .NET's 28 digits): the table goes as CSV.</summary>
    public abstract bool CopiesAsBinary { get; }

    /// <summary>The data type name of an NpgsqlParameter taking <see cref="ToParameterValue"/>.</summary>
    public abstract string ParameterDataTypeName { get; }

    /// <summary>Writes the value (NULL included) into a binary import; returns the bytes the field takes (<see cref="BinaryCopySize"/>).</summary>
    public abstract ValueTask<int> WriteAsync(MySqlValue value, NpgsqlBinaryImporter importer, CancellationToken cancellationToken);

    /// <summary>The value in the text form the target type parses from CSV (PostgreSQL's COPY, CockroachDB's IMPORT INTO); null for NULL.</summary>
    public abstract string? ToCsv(in MySqlValue value);

    /// <summary>The value an NpgsqlParameter of <see cref="ParameterDataTypeName"/> takes; <see cref="DBNull.Value"/> for NULL.</summary>
    public abstract object ToParameterValue(in MySqlValue value);

    /// <summary>A parameter of <see cref="ParameterDataTypeName"/> holding the value, for an apply statement.</summary>
    public NpgsqlParameter ToParameter(string name, in MySqlValue value) =>
        new() { ParameterName = name, DataTypeName = ParameterDataTypeName, Value = ToParameterValue(value) };
}

/// <summary>Converts a source value into the target value; false for NULL (a zero date loaded as NULL included).</summary>
internal delegate bool Conversion<T>(in MySqlValue value, out T result);

internal sealed class MySqlColumnConverter<T>(string wireType, Conversion<T> convert, TargetForm<T> form) : MySqlColumnConverter(wireType)
{
    public override bool CopiesAsBinary => form.CopiesAsBinary;

    public override string ParameterDataTypeName => form.ParameterDataTypeName ?? WireType;

    public override async ValueTask<int> WriteAsync(MySqlValue value, NpgsqlBinaryImporter importer, CancellationToken cancellationToken)
    {
        if (!convert(value, out var target))
        {
            await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
            return BinaryCopySize.NullField;
        }

        return await form.WriteAsync(target, WireType, importer, cancellationToken).ConfigureAwait(false);
    }

    public override string? ToCsv(in MySqlValue value) => convert(value, out var target) ? form.Csv(target) : null;

    public override object ToParameterValue(in MySqlValue value) => convert(value, out var target) ? form.Parameter(target) : DBNull.Value;
}

/// <summary>How one target value of type <typeparamref name="T"/> is spelled by each sink.</summary>
internal class TargetForm<T>(Func<T, string> csv)
{
    public virtual bool CopiesAsBinary => true;

    public virtual string? ParameterDataTypeName => null;

    public string Csv(T value) => csv(value);

    public virtual object Parameter(T value) => value!;

    public virtual async ValueTask<int> WriteAsync(T value, string wireType, NpgsqlBinaryImporter importer, CancellationToken cancellationToken)
    {
        await importer.WriteAsync(value, wireType, cancellationToken).ConfigureAwait(false);
        return BinaryCopySize.Field(value, wireType);
    }
}

/// <summary>
/// Dates and timestamps. Npgsql writes DateTime.MinValue (0001-01-01, the zero-date sentinel and a valid MySQL date) as
/// -infinity, so that one goes in PostgreSQL's own form: days, or microseconds, from 2000-01-01.
/// </summary>
internal sealed class DateTimeForm(string format, bool asDate) : TargetForm<DateTime>(value => value.ToString(format, CultureInfo.InvariantCulture))
{
    private static readonly DateTime PostgresEpoch = new(2000, 1, 1);

    /// <summary>DateTime.MinValue as PostgreSQL's date: days from 2000-01-01.</summary>
    private static readonly int MinValueDays = (int)(DateTime.MinValue - PostgresEpoch).TotalDays;

    /// <summary>DateTime.MinValue as PostgreSQL's timestamp: microseconds from 2000-01-01 00:00:00.</summary>
    private static readonly long MinValueMicroseconds = (DateTime.MinValue - PostgresEpoch).Ticks / TimeSpan.TicksPerMicrosecond;

    public override object Parameter(DateTime value) => value != DateTime.MinValue ? value : asDate ? (object)MinValueDays : MinValueMicroseconds;

    public override async ValueTask<int> WriteAsync(DateTime value, string wireType, NpgsqlBinaryImporter importer, CancellationToken cancellationToken)
    {
        if (value != DateTime.MinValue)
        {
            return await base.WriteAsync(value, wireType, importer, cancellationToken).ConfigureAwait(false);
        }

        if (asDate)
        {
            await importer.WriteAsync(MinValueDays, wireType, cancellationToken).ConfigureAwait(false);
            return BinaryCopySize.Field(MinValueDays, wireType);
        }

        await importer.WriteAsync(MinValueMicroseconds, wireType, cancellationToken).ConfigureAwait(false);
        return BinaryCopySize.Field(MinValueMicroseconds, wireType);
    }
}

/// <summary>
/// A DECIMAL wider than .NET's decimal, as its exact text: CSV carries it, binary COPY cannot, and a parameter goes as
/// an untyped literal the server reads as the column's numeric.
/// </summary>
internal sealed class NumericTextForm() : TargetForm<string>(value => value)
{
    public override bool CopiesAsBinary => false;

    public override string? ParameterDataTypeName => "unknown";

    public override ValueTask<int> WriteAsync(string value, string wireType, NpgsqlBinaryImporter importer, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"A DECIMAL of more than {MySqlValueTable.MaxBinaryDecimalDigits} digits cannot be written by binary COPY.");
}

/// <summary>
/// A geometry as EWKB: binary COPY sends the bytes, which PostGIS's binary input reads as EWKB; CSV and statement
/// parameters carry its hex text, which PostGIS and CockroachDB both parse as a geometry.
/// </summary>
internal sealed class GeometryForm() : TargetForm<byte[]>(Convert.ToHexString)
{
    public override string? ParameterDataTypeName => "unknown";

    public override object Parameter(byte[] value) => Convert.ToHexString(value);

    public override async ValueTask<int> WriteAsync(byte[] value, string wireType, NpgsqlBinaryImporter importer, CancellationToken cancellationToken)
    {
        // Npgsql has no writer for PostGIS's type; a binary COPY field is its bytes whatever the type, which the column reads.
        await importer.WriteAsync(value, "bytea", cancellationToken).ConfigureAwait(false);
        return BinaryCopySize.Field(value, "bytea");
    }
}

/// <summary>The target forms of the values <see cref="MySqlValueTable"/> produces, one per target type.</summary>
internal static class TargetForms
{
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.ffffff";

    public static readonly TargetForm<bool> Boolean = new(value => value ? "true" : "false");

    public static readonly TargetForm<short> Int16 = new(value => value.ToString(CultureInfo.InvariantCulture));

    public static readonly TargetForm<int> Int32 = new(value => value.ToString(CultureInfo.InvariantCulture));

    public static readonly TargetForm<long> Int64 = new(value => value.ToString(CultureInfo.InvariantCulture));

    /// <summary>decimal keeps its scale, so 1.50 is written as it was read.</summary>
    public static readonly TargetForm<decimal> Numeric = new(value => value.ToString(CultureInfo.InvariantCulture));

    public static readonly TargetForm<string> NumericText = new NumericTextForm();

    /// <summary>"R": the shortest text that reads back as the same float or double.</summary>
    public static readonly TargetForm<float> Real = new(value => value.ToString("R", CultureInfo.InvariantCulture));

    public static readonly TargetForm<double> Double = new(value => value.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>VARBIT's text form: a digit per bit, most significant first.</summary>
    public static readonly TargetForm<BitArray> Bits = new(value => string.Create(value.Length, value, (span, bits) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = bits[i] ? '1' : '0';
        }
    }));

    public static readonly TargetForm<DateTime> Date = new DateTimeForm("yyyy-MM-dd", asDate: true);

    public static readonly TargetForm<DateTime> Timestamp = new DateTimeForm(TimestampFormat, asDate: false);

    public static readonly TargetForm<DateTime> TimestampTz = new DateTimeForm(TimestampFormat + "'+00:00'", asDate: false);

    public static readonly TargetForm<NpgsqlInterval> Interval = new(value => TimeText(value.Time));

    public static readonly TargetForm<byte[]> Bytea = new(value => "\\x" + Convert.ToHexString(value).ToLowerInvariant());

    public static readonly TargetForm<string> Text = new(value => value);

    public static readonly TargetForm<byte[]> Geometry = new GeometryForm();

    /// <summary>A MySQL TIME of <paramref name="microseconds"/> in hours, minutes and seconds: '-838:59:59.000000'.</summary>
    public static string TimeText(long microseconds)
    {
        var sign = microseconds < 0 ? "-" : "";
        var magnitude = Math.Abs(microseconds);
        var seconds = magnitude / 1_000_000;
        return string.Create(CultureInfo.InvariantCulture,
            $"{sign}{seconds / 3600}:{seconds / 60 % 60:D2}:{seconds % 60:D2}.{magnitude % 1_000_000:D6}");
    }
}
