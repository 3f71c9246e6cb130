using System.Buffers.Binary;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Values;

/// <summary>
/// Decodes one column value of a row image into a neutral CLR value. The CLR type per MySQL type is listed in this
/// project's README.md ("Decoded values"); keep the two in step.
/// </summary>
internal static class ColumnDecoder
{
    public static object Decode(ref PayloadReader reader, ColumnInfo column)
    {
        var unsigned = column.IsUnsigned == true;
        switch (column.Type)
        {
            case ColumnType.Tiny:
                {
                var raw = reader.ReadByte();
                return unsigned ? (object)(ulong)raw : (object)(long)(sbyte)raw;
            }
            case ColumnType.Short:
                {
                var raw = reader.ReadUInt16();
                return unsigned ? (object)(ulong)raw : (object)(long)(short)raw;
            }
            case ColumnType.Int24:
            {
                var raw = reader.ReadUInt24();
                return unsigned ? (object)(ulong)raw : (object)(long)((int)(raw << 8) >> 8);
            }

            case ColumnType.Long:
                {
                var raw = reader.ReadUInt32();
                return unsigned ? (object)(ulong)raw : (object)(long)(int)raw;
            }
            case ColumnType.LongLong:
                {
                var raw = reader.ReadUInt64();
                return unsigned ? (object)raw : (object)(long)raw;
            }
            case ColumnType.Float:
                return BinaryPrimitives.ReadSingleLittleEndian(reader.ReadBytes(4));
            case ColumnType.Double:
                return BinaryPrimitives.ReadDoubleLittleEndian(reader.ReadBytes(8));
            case ColumnType.NewDecimal:
                return DecimalDecoder.Decode(ref reader, column.Metadata >> 8, column.Metadata & 0xFF);
            case ColumnType.Year:
                return TemporalDecoder.Year(ref reader);
            case ColumnType.Date or ColumnType.NewDate:
                return TemporalDecoder.Date(ref reader);
            case ColumnType.Time:
                return TemporalDecoder.Time(ref reader);
            case ColumnType.Time2:
                return TemporalDecoder.Time2(ref reader, column.Metadata);
            case ColumnType.DateTime:
                return TemporalDecoder.DateTime(ref reader);
            case ColumnType.DateTime2:
                return TemporalDecoder.DateTime2(ref reader, column.Metadata);
            case ColumnType.Timestamp:
                return TemporalDecoder.Timestamp(ref reader);
            case ColumnType.Timestamp2:
                return TemporalDecoder.Timestamp2(ref reader, column.Metadata);
            case ColumnType.Bit:
            {
                var bits = column.Metadata >> 8;
                var bytes = (column.Metadata & 0xFF) + (bits > 0 ? 1 : 0);
                return reader.ReadUIntBigEndian(bytes);
            }

            case ColumnType.VarChar or ColumnType.VarString:
                return reader.ReadBytes(column.Metadata < 256 ? reader.ReadByte() : reader.ReadUInt16()).ToArray();
            case ColumnType.String or ColumnType.Enum or ColumnType.Set:
                return DecodeString(ref reader, column);
            case ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob or ColumnType.Geometry or ColumnType.Vector:
                return reader.ReadBytes(checked((int)reader.ReadUIntLittleEndian(column.Metadata))).ToArray();
            case ColumnType.Json:
                return JsonBinaryDecoder.ToJson(reader.ReadBytes(checked((int)reader.ReadUIntLittleEndian(column.Metadata))));
            default:
                throw new BinlogException(BinlogErrorIds.UnsupportedColumn,
                    $"Column {column.Index}{(column.Name is null ? "" : $" ({column.Name})")} has binlog type {column.Type} ({(int)column.Type}), which this client cannot decode.");
        }
    }

    private static object DecodeString(ref PayloadReader reader, ColumnInfo column)
    {
        var (type, length) = column.Type == ColumnType.String ? ColumnInfo.StringRealType(column.Metadata) : (column.Type, column.Metadata & 0xFF);
        return type switch
        {
            ColumnType.Enum => (long)reader.ReadUIntLittleEndian(length),
            ColumnType.Set => reader.ReadUIntLittleEndian(length),
            _ => Padded(reader.ReadBytes(length < 256 ? reader.ReadByte() : reader.ReadUInt16()), column, length),
        };
    }

    /// <summary>The binlog drops BINARY(n)'s trailing zero bytes; they are part of the value, so they are put back.</summary>
    private static byte[] Padded(ReadOnlySpan<byte> stored, ColumnInfo column, int length)
    {
        if (!column.IsBinaryCollation || stored.Length >= length)
        {
            return stored.ToArray();
        }

        var value = new byte[length];
        stored.CopyTo(value);
        return value;
    }
}
