using System.Collections;
using System.Text;
using NpgsqlTypes;

namespace Molt.Engine.Load;

/// <summary>
/// Sizes in PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"), for a
/// stream written value by value: the same bytes <see cref="BinaryCopyCounter"/> counts in a relayed stream.
/// </summary>
internal static class BinaryCopySize
{
    /// <summary>The 11-byte signature, the flags and the header extension's length.</summary>
    public const int Header = 11 + 4 + 4;

    /// <summary>The field count of -1 that ends the stream.</summary>
    public const int Trailer = 2;

    /// <summary>Each tuple's field count.</summary>
    public const int TupleHeader = 2;

    /// <summary>A NULL field: its length, -1, and no data.</summary>
    public const int NullField = 4;

    /// <summary>A field: its 4-byte length, then the value in the wire type's binary form, as Npgsql writes it.</summary>
    public static int Field<T>(T value, string wireType) => 4 + value switch
    {
        string text => Encoding.UTF8.GetByteCount(text) + (wireType == "jsonb" ? 1 : 0),
        byte[] bytes => bytes.Length,
        BitArray bits => 4 + (bits.Length + 7) / 8,
        decimal number => Numeric(number),
        NpgsqlInterval => 16,
        bool => 1,
        short => 2,
        int => 4,
        long => 8,
        float => 4,
        double => 8,
        DateTime => wireType == "date" ? 4 : 8,
        _ => throw new ArgumentException($"No binary COPY size is known for a {typeof(T).Name} written as {wireType}.", nameof(value)),
    };

    /// <summary>
    /// numeric: four 16-bit words (digit count, weight, sign, scale) and a word per base-10000 digit. Npgsql aligns the
    /// digits on the decimal point and leaves out trailing zero digits (as PostgreSQL stores them).
    /// </summary>
    private static int Numeric(decimal value)
    {
        var bits = decimal.GetBits(value);
        var mantissa = ((UInt128)(uint)bits[2] << 64) | ((UInt128)(uint)bits[1] << 32) | (uint)bits[0];
        var scale = (bits[3] >> 16) & 0xFF;
        var divisor = scale % 4 == 0 ? 10_000u : (uint)Math.Pow(10, scale % 4);
        var digits = 0;
        while (mantissa != 0)
        {
            var remainder = mantissa % divisor;
            mantissa /= divisor;
            divisor = 10_000;
            if (digits != 0 || remainder != 0)
            {
                digits++;
            }
        }

        return 8 + 2 * digits;
    }
}
