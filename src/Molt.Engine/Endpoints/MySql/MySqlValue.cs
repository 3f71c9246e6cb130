using System.Globalization;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>What a <see cref="MySqlValue"/> holds: one of the plain .NET values a MySQL column arrives as.</summary>
internal enum MySqlValueKind
{
    Null,
    /// <summary>A signed integer (TINYINT..BIGINT, YEAR), as <see cref="long"/>.</summary>
    Signed,
    /// <summary>An unsigned integer, a BIT's bits, an ENUM's 1-based index or a SET's member bitmap, as <see cref="ulong"/>.</summary>
    Unsigned,
    /// <summary>A DECIMAL that fits .NET's decimal.</summary>
    Decimal,
    /// <summary>A DECIMAL as its exact text ("-12.50"), any precision up to MySQL's 65 digits.</summary>
    DecimalText,
    Float,
    Double,
    /// <summary>Decoded text (CHAR, VARCHAR, TEXT, an ENUM's or SET's labels, JSON text).</summary>
    Text,
    /// <summary>Bytes: BINARY/VARBINARY/BLOB, or a text column's bytes in its character set.</summary>
    Bytes,
    /// <summary>DATE, DATETIME or TIMESTAMP as its parts (<see cref="MySqlDateParts"/>), zero dates included.</summary>
    DateTime,
    /// <summary>TIME as a <see cref="TimeSpan"/>: negative and beyond 24 hours allowed (-838:59:59 to 838:59:59).</summary>
    Time,
}

/// <summary>
/// A DATE, DATETIME or TIMESTAMP as MySQL stores it, zero dates ('0000-00-00', a zero month or day) included. A
/// TIMESTAMP is its UTC instant (the load reads with time_zone '+00:00'; the binlog holds seconds since the epoch).
/// </summary>
internal readonly record struct MySqlDateParts(int Year, int Month, int Day, int Hour = 0, int Minute = 0, int Second = 0, int Microsecond = 0)
{
    /// <summary>True when it is a real calendar date .NET can hold; false for zero dates and zero months or days.</summary>
    public bool IsValid => Year is >= 1 and <= 9999 && Month is >= 1 and <= 12 && Day >= 1 && Day <= System.DateTime.DaysInMonth(Year, Month)
                           && Hour is >= 0 and < 24 && Minute is >= 0 and < 60 && Second is >= 0 and < 60 && Microsecond is >= 0 and < 1_000_000;

    public static MySqlDateParts From(DateTime value) =>
        new(value.Year, value.Month, value.Day, value.Hour, value.Minute, value.Second, (int)(value.Ticks % TimeSpan.TicksPerSecond / 10));

    /// <summary>The date as a DateTime of <paramref name="kind"/>; only for a valid date.</summary>
    public DateTime ToDateTime(DateTimeKind kind) =>
        new DateTime(Year, Month, Day, Hour, Minute, Second, kind).AddTicks(Microsecond * 10L);

    /// <summary>The date as MySQL spells it ('0000-00-00'), for messages.</summary>
    public string DateText => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Month:D2}-{Day:D2}");

    /// <summary>Date and time as MySQL spells them, with six fractional digits.</summary>
    public string DateTimeText => string.Create(CultureInfo.InvariantCulture, $"{DateText} {Hour:D2}:{Minute:D2}:{Second:D2}.{Microsecond:D6}");
}

/// <summary>
/// One MySQL/MariaDB column value in a neutral form, as a data reader or a decoded binlog row produces it: the input of
/// <see cref="MySqlValueTable"/>. A struct, so the load reads a value per column per row without boxing it.
/// </summary>
internal readonly struct MySqlValue
{
    private readonly long integer;
    private readonly double real;
    private readonly decimal number;
    private readonly object? reference;
    private readonly MySqlDateParts date;

    private MySqlValue(MySqlValueKind kind, long integer = 0, double real = 0, decimal number = 0, object? reference = null, MySqlDateParts date = default)
    {
        Kind = kind;
        this.integer = integer;
        this.real = real;
        this.number = number;
        this.reference = reference;
        this.date = date;
    }

    public MySqlValueKind Kind { get; }

    public bool IsNull => Kind == MySqlValueKind.Null;

    public static MySqlValue Null => default;

    public static MySqlValue Of(long value) => new(MySqlValueKind.Signed, integer: value);

    public static MySqlValue Of(ulong value) => new(MySqlValueKind.Unsigned, integer: unchecked((long)value));

    public static MySqlValue Of(decimal value) => new(MySqlValueKind.Decimal, number: value);

    public static MySqlValue OfDecimalText(string value) => new(MySqlValueKind.DecimalText, reference: value);

    public static MySqlValue Of(float value) => new(MySqlValueKind.Float, real: value);

    public static MySqlValue Of(double value) => new(MySqlValueKind.Double, real: value);

    public static MySqlValue Of(string value) => new(MySqlValueKind.Text, reference: value);

    public static MySqlValue Of(byte[] value) => new(MySqlValueKind.Bytes, reference: value);

    public static MySqlValue Of(MySqlDateParts value) => new(MySqlValueKind.DateTime, date: value);

    public static MySqlValue Of(TimeSpan value) => new(MySqlValueKind.Time, integer: value.Ticks);

    public long Signed => integer;

    public ulong Unsigned => unchecked((ulong)integer);

    public decimal Decimal => number;

    public double Double => real;

    public float Float => (float)real;

    /// <summary>The text of a <see cref="MySqlValueKind.Text"/> or <see cref="MySqlValueKind.DecimalText"/> value.</summary>
    public string Text => (string)reference!;

    public byte[] Bytes => (byte[])reference!;

    public MySqlDateParts Date => date;

    public TimeSpan Time => new(integer);

    public override string ToString() => Kind switch
    {
        MySqlValueKind.Null => "NULL",
        MySqlValueKind.Signed => Signed.ToString(CultureInfo.InvariantCulture),
        MySqlValueKind.Unsigned => Unsigned.ToString(CultureInfo.InvariantCulture),
        MySqlValueKind.Decimal => Decimal.ToString(CultureInfo.InvariantCulture),
        MySqlValueKind.Float => Float.ToString("R", CultureInfo.InvariantCulture),
        MySqlValueKind.Double => Double.ToString("R", CultureInfo.InvariantCulture),
        MySqlValueKind.Bytes => "0x" + Convert.ToHexString(Bytes),
        MySqlValueKind.DateTime => Date.DateTimeText,
        MySqlValueKind.Time => Time.ToString("c", CultureInfo.InvariantCulture),
        _ => Text,
    };
}
