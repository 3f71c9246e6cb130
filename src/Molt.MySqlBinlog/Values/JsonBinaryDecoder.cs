using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Values;

/// <summary>
/// MySQL's binary JSON (json_binary.cc layout) to JSON text in MySQL's own spacing ("a": 1, "b": [1, 2]). Containers
/// hold element counts, byte sizes, key entries and value entries with offsets from the container start; small
/// containers use 2-byte counts and offsets, large 4-byte. An empty document is JSON null.
/// </summary>
internal static class JsonBinaryDecoder
{
    private const byte SmallObject = 0x00;
    private const byte LargeObject = 0x01;
    private const byte SmallArray = 0x02;
    private const byte LargeArray = 0x03;
    private const byte Literal = 0x04;
    private const byte Int16 = 0x05;
    private const byte UInt16 = 0x06;
    private const byte Int32 = 0x07;
    private const byte UInt32 = 0x08;
    private const byte Int64 = 0x09;
    private const byte UInt64 = 0x0A;
    private const byte Double = 0x0B;
    private const byte Utf8String = 0x0C;
    private const byte Opaque = 0x0F;

    public static string ToJson(ReadOnlySpan<byte> document)
    {
        if (document.IsEmpty)
        {
            return "null";
        }

        var text = new StringBuilder();
        WriteValue(text, document[0], document[1..]);
        return text.ToString();
    }

    private static void WriteValue(StringBuilder text, byte type, ReadOnlySpan<byte> data)
    {
        switch (type)
        {
            case SmallObject or LargeObject:
                WriteContainer(text, data, type == LargeObject, isObject: true);
                break;
            case SmallArray or LargeArray:
                WriteContainer(text, data, type == LargeArray, isObject: false);
                break;
            case Literal:
                text.Append(data[0] switch { 0 => "null", 1 => "true", 2 => "false", _ => throw Invalid($"literal {data[0]}") });
                break;
            case Int16:
                text.Append(BinaryPrimitives.ReadInt16LittleEndian(data).ToString(CultureInfo.InvariantCulture));
                break;
            case UInt16:
                text.Append(BinaryPrimitives.ReadUInt16LittleEndian(data).ToString(CultureInfo.InvariantCulture));
                break;
            case Int32:
                text.Append(BinaryPrimitives.ReadInt32LittleEndian(data).ToString(CultureInfo.InvariantCulture));
                break;
            case UInt32:
                text.Append(BinaryPrimitives.ReadUInt32LittleEndian(data).ToString(CultureInfo.InvariantCulture));
                break;
            case Int64:
                text.Append(BinaryPrimitives.ReadInt64LittleEndian(data).ToString(CultureInfo.InvariantCulture));
                break;
            case UInt64:
                text.Append(BinaryPrimitives.ReadUInt64LittleEndian(data).ToString(CultureInfo.InvariantCulture));
                break;
            case Double:
                text.Append(FormatDouble(BinaryPrimitives.ReadDoubleLittleEndian(data)));
                break;
            case Utf8String:
            {
                var length = ReadVariableLength(data, out var used);
                WriteString(text, Encoding.UTF8.GetString(data.Slice(used, length)));
                break;
            }

            case Opaque:
                WriteOpaque(text, data);
                break;
            default:
                throw Invalid($"value type 0x{type:X2}");
        }
    }

    private static void WriteContainer(StringBuilder text, ReadOnlySpan<byte> data, bool large, bool isObject)
    {
        var width = large ? 4 : 2;
        var count = (int)ReadUnsigned(data, 0, width);
        var keyEntry = width + 2;
        var valueEntry = 1 + width;
        var header = 2 * width;
        var valuesStart = header + (isObject ? count * keyEntry : 0);
        text.Append(isObject ? '{' : '[');
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            if (isObject)
            {
                var keyAt = header + i * keyEntry;
                var keyOffset = (int)ReadUnsigned(data, keyAt, width);
                var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(data[(keyAt + width)..]);
                WriteString(text, Encoding.UTF8.GetString(data.Slice(keyOffset, keyLength)));
                text.Append(": ");
            }

            var entryAt = valuesStart + i * valueEntry;
            var type = data[entryAt];
            if (IsInlined(type, large))
            {
                WriteValue(text, type, data.Slice(entryAt + 1, width));
            }
            else
            {
                WriteValue(text, type, data[(int)ReadUnsigned(data, entryAt + 1, width)..]);
            }
        }

        text.Append(isObject ? '}' : ']');
    }

    /// <summary>Literals and 16-bit integers sit in the value entry itself; in large containers 32-bit ones too.</summary>
    private static bool IsInlined(byte type, bool large) => type is Literal or Int16 or UInt16 || (large && type is Int32 or UInt32);

    private static void WriteOpaque(StringBuilder text, ReadOnlySpan<byte> data)
    {
        var fieldType = (ColumnType)data[0];
        var length = ReadVariableLength(data[1..], out var used);
        var payload = data.Slice(1 + used, length);
        switch (fieldType)
        {
            case ColumnType.NewDecimal:
            {
                var reader = new PayloadReader(payload[2..]);
                text.Append(DecimalDecoder.Decode(ref reader, payload[0], payload[1]));
                break;
            }

            case ColumnType.Date or ColumnType.DateTime or ColumnType.Timestamp or ColumnType.DateTime2 or ColumnType.Timestamp2:
            {
                var packed = BinaryPrimitives.ReadInt64LittleEndian(payload);
                var value = TemporalDecoder.FromPackedDateTime(packed >> 24, (int)(packed % (1 << 24)));
                var formatted = fieldType == ColumnType.Date
                    ? string.Create(CultureInfo.InvariantCulture, $"{value.Year:D4}-{value.Month:D2}-{value.Day:D2}")
                    : string.Create(CultureInfo.InvariantCulture, $"{value.Year:D4}-{value.Month:D2}-{value.Day:D2} {value.Hour:D2}:{value.Minute:D2}:{value.Second:D2}.{value.Microsecond:D6}");
                WriteString(text, formatted);
                break;
            }

            case ColumnType.Time or ColumnType.Time2:
            {
                var time = TemporalDecoder.FromPackedTime(BinaryPrimitives.ReadInt64LittleEndian(payload));
                WriteString(text, string.Create(CultureInfo.InvariantCulture,
                    $"{(time.Negative ? "-" : "")}{time.Hours:D2}:{time.Minutes:D2}:{time.Seconds:D2}.{time.Microseconds:D6}"));
                break;
            }

            default:
                // What MySQL itself prints for opaque values it has no text form for.
                WriteString(text, string.Create(CultureInfo.InvariantCulture, $"base64:type{(int)fieldType}:{Convert.ToBase64String(payload)}"));
                break;
        }
    }

    private static ulong ReadUnsigned(ReadOnlySpan<byte> data, int at, int width) =>
        width == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(data[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);

    /// <summary>Lengths of strings and opaque values: 7 bits per byte, low bits first, high bit = more bytes.</summary>
    private static int ReadVariableLength(ReadOnlySpan<byte> data, out int used)
    {
        var length = 0;
        for (used = 0; used < 5; used++)
        {
            var b = data[used];
            length |= (b & 0x7F) << (7 * used);
            if ((b & 0x80) == 0)
            {
                used++;
                return length;
            }
        }

        throw Invalid("variable length over 5 bytes");
    }

    private static string FormatDouble(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture).Replace("E+", "e", StringComparison.Ordinal).Replace("E-", "e-", StringComparison.Ordinal);
        return text.AsSpan().IndexOfAny(".e") < 0 ? text + ".0" : text;
    }

    private static void WriteString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case < ' ': text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                default: text.Append(c); break;
            }
        }

        text.Append('"');
    }

    private static BinlogException Invalid(string what) => new(BinlogErrorIds.UnsupportedColumn, $"A binary JSON value is malformed: {what}.");
}
