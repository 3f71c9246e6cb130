using Molt.Engine.Schema;
using System.Collections;
using System.Globalization;
using System.Text;

namespace Molt.Engine.Verify;

/// <summary>
/// Turns a value read from either engine into one canonical text, so that a MySQL DATETIME equals the PostgreSQL
/// timestamp it was loaded as, DECIMAL equals numeric whatever their scales, JSON equals jsonb by meaning, and so on.
/// </summary>
internal static class ValueNormalizer
{
    public static string? Normalize(object? value, ColumnKind kind) => value switch
    {
        null or DBNull => null,
        // A zero date is compared with what the load made of it: NULL, or the sentinel.
        MySqlConnector.MySqlDateTime { IsValidDateTime: false } => kind.ZeroDateAsSentinel
            ? kind.IsDate ? Date(ZeroDateSentinel.Value) : Timestamp(ZeroDateSentinel.Value)
            : null,
        MySqlConnector.MySqlDateTime valid => kind.IsDate ? Date(valid.GetDateTime()) : Timestamp(valid.GetDateTime()),
        DateTime dateTime => kind.IsDate ? Date(dateTime) : Timestamp(dateTime),
        DateTimeOffset offset => Timestamp(offset.UtcDateTime),
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly time => Duration(time.ToTimeSpan()),
        TimeSpan span => Duration(span),
        decimal number => Decimal(number),
        // -0 is written as 0: PostgreSQL and MySQL compare them equal ('-0'::float8 = '0'::float8). Every NaN is "NaN".
        double number when number == 0 => "0",
        // A single-precision source value is compared at its own precision, however it was widened on the way.
        double number => kind.IsSingle ? ((float)number).ToString("R", CultureInfo.InvariantCulture) : number.ToString("R", CultureInfo.InvariantCulture),
        float number when number == 0 => "0",
        float number => number.ToString("R", CultureInfo.InvariantCulture),
        bool flag => flag ? "1" : "0",
        ulong bits when kind.BitLength is { } length => Bits(bits, length),
        BitArray bits => Bits(bits),
        byte[] bytes => Convert.ToHexString(bytes),
        Guid guid => guid.ToString("D"),
        string text when kind.IsJson => JsonCanonicalText.Of(text) ?? text,
        string text when kind.IsDecimal => DecimalText(text),
        string text => text,
        Array array => "{" + string.Join(",", array.Cast<object?>().Select(e => Normalize(e, kind) ?? "NULL")) + "}",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>
    /// Whether two canonical values are equal, floating-point ones within a relative tolerance when one is given. An
    /// infinity equals only the same infinity, and NaN only NaN, tolerance or not.
    /// </summary>
    public static bool Same(string? source, string? target, ColumnKind kind, double tolerance)
    {
        if (string.Equals(source, target, StringComparison.Ordinal))
        {
            return true;
        }

        if (tolerance <= 0 || !kind.IsFloat || source is null || target is null
            || !double.TryParse(source, NumberStyles.Float, CultureInfo.InvariantCulture, out var a)
            || !double.TryParse(target, NumberStyles.Float, CultureInfo.InvariantCulture, out var b))
        {
            return false;
        }

        if (!double.IsFinite(a) || !double.IsFinite(b))
        {
            return a.Equals(b);
        }

        return Math.Abs(a - b) <= tolerance * Math.Max(Math.Abs(a), Math.Abs(b));
    }

    private static string Date(DateTime value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Timestamp(DateTime value) => value.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    private static string Duration(TimeSpan span) =>
        (span < TimeSpan.Zero ? "-" : "") + ((long)Math.Abs(span.TotalHours)).ToString(CultureInfo.InvariantCulture)
        + span.Duration().ToString(@"\:mm\:ss\.ffffff", CultureInfo.InvariantCulture);

    private static string Decimal(decimal number)
    {
        var text = number.ToString(CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) ? text.TrimEnd('0').TrimEnd('.') : text;
    }

    /// <summary>A decimal's text without trailing fractional zeros, so 1.50 (numeric(5,2)) equals 1.5 (DECIMAL(6,1)).</summary>
    private static string DecimalText(string text)
    {
        var trimmed = text.Contains('.', StringComparison.Ordinal) ? text.TrimEnd('0').TrimEnd('.') : text;
        return trimmed is "-0" ? "0" : trimmed;
    }

    private static string Bits(ulong value, int length)
    {
        var text = new StringBuilder(length);
        for (var i = length - 1; i >= 0; i--)
        {
            text.Append(((value >> i) & 1) == 1 ? '1' : '0');
        }

        return text.ToString();
    }

    private static string Bits(BitArray bits)
    {
        var text = new StringBuilder(bits.Length);
        foreach (bool bit in bits)
        {
            text.Append(bit ? '1' : '0');
        }

        return text.ToString();
    }
}

/// <summary>What the normalizer needs to know about a column beyond its values.</summary>
/// <param name="IsDecimal">An exact decimal, read as text (beyond 28 digits it fits no .NET type) and compared by value.</param>
/// <param name="ZeroDateAsSentinel">A MySQL zero date was loaded as <see cref="ZeroDateSentinel"/> (else as NULL).</param>
/// <param name="IsSingle">A single-precision float (FLOAT, real): compared at that precision.</param>
internal sealed record ColumnKind(bool IsJson, bool IsFloat, int? BitLength, bool IsDate = false, bool IsDecimal = false, bool ZeroDateAsSentinel = false,
    bool IsSingle = false)
{
    public static ColumnKind Plain { get; } = new(false, false, null);
}
