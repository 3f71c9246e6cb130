using System.Collections;
using Molt.Engine.Schema;
using NpgsqlTypes;

namespace Molt.Engine.Replication;

/// <summary>
/// Writes the row changes and truncates of a batch to a spill file and reads them back, for a batch too large to keep in
/// memory. Tables are written as numbers into the writer's own table list (a stream names few tables, over and over).
/// Values are what change sources produce: text and null for PostgreSQL, the MySQL value conversion's CLR values.
/// </summary>
internal sealed class ChangeSerializer
{
    private readonly List<ChangeTable> tables = [];
    private readonly Dictionary<ChangeTable, int> numbers = new(ReferenceEqualityComparer.Instance);

    private enum Tag : byte
    {
        Row,
        Truncate,
    }

    private enum ValueTag : byte
    {
        Null, String, Bytes, Int64, Int32, Int16, Byte, Decimal, Double, Single, Boolean, DateTime, DateTimeOffset, TimeSpan, Guid, UInt64, DateOnly, TimeOnly, Bits, Interval,
    }

    public void Write(BinaryWriter writer, Change change)
    {
        switch (change)
        {
            case RowChange row:
                writer.Write((byte)Tag.Row);
                writer.Write(Number(row.Table));
                writer.Write((byte)row.Kind);
                WriteValues(writer, row.Key);
                WriteOptionalValues(writer, row.OldKey);
                WriteImage(writer, row.New);
                WriteImage(writer, row.Old);
                break;
            case TruncateChange truncate:
                writer.Write((byte)Tag.Truncate);
                writer.Write(truncate.Cascade);
                writer.Write(truncate.Tables.Count);
                foreach (var table in truncate.Tables)
                {
                    writer.Write(table.Schema);
                    writer.Write(table.Name);
                }

                break;
            default:
                throw new ArgumentException($"A batch holds row changes and truncates only, not {change.GetType().Name}.", nameof(change));
        }
    }

    public Change Read(BinaryReader reader)
    {
        var tag = (Tag)reader.ReadByte();
        if (tag == Tag.Truncate)
        {
            var cascade = reader.ReadBoolean();
            var count = reader.ReadInt32();
            var names = new TableName[count];
            for (var i = 0; i < count; i++)
            {
                names[i] = new TableName(reader.ReadString(), reader.ReadString());
            }

            return new TruncateChange(names, cascade);
        }

        var table = tables[reader.ReadInt32()];
        var kind = (RowChangeKind)reader.ReadByte();
        var key = ReadValues(reader);
        var oldKey = reader.ReadBoolean() ? ReadValues(reader) : null;
        return new RowChange(table, kind) { Key = key, OldKey = oldKey, New = ReadImage(reader), Old = ReadImage(reader) };
    }

    private int Number(ChangeTable table)
    {
        if (!numbers.TryGetValue(table, out var number))
        {
            number = numbers[table] = tables.Count;
            tables.Add(table);
        }

        return number;
    }

    private static void WriteImage(BinaryWriter writer, RowImage? image)
    {
        writer.Write(image is not null);
        if (image is null)
        {
            return;
        }

        WriteValues(writer, image.Values);
        foreach (var state in image.States)
        {
            writer.Write((byte)state);
        }
    }

    private static RowImage? ReadImage(BinaryReader reader)
    {
        if (!reader.ReadBoolean())
        {
            return null;
        }

        var values = ReadValues(reader);
        var states = new ColumnValueState[values.Length];
        for (var i = 0; i < states.Length; i++)
        {
            states[i] = (ColumnValueState)reader.ReadByte();
        }

        return new RowImage(values, states);
    }

    private static void WriteOptionalValues(BinaryWriter writer, IReadOnlyList<object?>? values)
    {
        writer.Write(values is not null);
        if (values is not null)
        {
            WriteValues(writer, values);
        }
    }

    private static void WriteValues(BinaryWriter writer, IReadOnlyList<object?> values)
    {
        writer.Write(values.Count);
        foreach (var value in values)
        {
            WriteValue(writer, value);
        }
    }

    private static object?[] ReadValues(BinaryReader reader)
    {
        var values = new object?[reader.ReadInt32()];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = ReadValue(reader);
        }

        return values;
    }

    private static void WriteValue(BinaryWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.Write((byte)ValueTag.Null); break;
            case string v: writer.Write((byte)ValueTag.String); writer.Write(v); break;
            case byte[] v: writer.Write((byte)ValueTag.Bytes); writer.Write(v.Length); writer.Write(v); break;
            case long v: writer.Write((byte)ValueTag.Int64); writer.Write(v); break;
            case int v: writer.Write((byte)ValueTag.Int32); writer.Write(v); break;
            case short v: writer.Write((byte)ValueTag.Int16); writer.Write(v); break;
            case byte v: writer.Write((byte)ValueTag.Byte); writer.Write(v); break;
            case decimal v: writer.Write((byte)ValueTag.Decimal); writer.Write(v); break;
            case double v: writer.Write((byte)ValueTag.Double); writer.Write(v); break;
            case float v: writer.Write((byte)ValueTag.Single); writer.Write(v); break;
            case bool v: writer.Write((byte)ValueTag.Boolean); writer.Write(v); break;
            case DateTime v: writer.Write((byte)ValueTag.DateTime); writer.Write(v.ToBinary()); break;
            case DateTimeOffset v: writer.Write((byte)ValueTag.DateTimeOffset); writer.Write(v.Ticks); writer.Write((short)v.Offset.TotalMinutes); break;
            case TimeSpan v: writer.Write((byte)ValueTag.TimeSpan); writer.Write(v.Ticks); break;
            case Guid v: writer.Write((byte)ValueTag.Guid); writer.Write(v.ToByteArray()); break;
            case ulong v: writer.Write((byte)ValueTag.UInt64); writer.Write(v); break;
            case DateOnly v: writer.Write((byte)ValueTag.DateOnly); writer.Write(v.DayNumber); break;
            case TimeOnly v: writer.Write((byte)ValueTag.TimeOnly); writer.Write(v.Ticks); break;
            // A MySQL BIT's and TIME's conversions (MySqlValueTable): the bit count, then the bits; months, days, microseconds.
            case BitArray v: writer.Write((byte)ValueTag.Bits); writer.Write(v.Length); writer.Write(BitBytes(v)); break;
            case NpgsqlInterval v: writer.Write((byte)ValueTag.Interval); writer.Write(v.Months); writer.Write(v.Days); writer.Write(v.Time); break;
            default: throw new NotSupportedException($"A change value of type {value.GetType().Name} cannot be spilled to disk.");
        }
    }

    private static object? ReadValue(BinaryReader reader) => (ValueTag)reader.ReadByte() switch
    {
        ValueTag.Null => null,
        ValueTag.String => reader.ReadString(),
        ValueTag.Bytes => reader.ReadBytes(reader.ReadInt32()),
        ValueTag.Int64 => reader.ReadInt64(),
        ValueTag.Int32 => reader.ReadInt32(),
        ValueTag.Int16 => reader.ReadInt16(),
        ValueTag.Byte => reader.ReadByte(),
        ValueTag.Decimal => reader.ReadDecimal(),
        ValueTag.Double => reader.ReadDouble(),
        ValueTag.Single => reader.ReadSingle(),
        ValueTag.Boolean => reader.ReadBoolean(),
        ValueTag.DateTime => DateTime.FromBinary(reader.ReadInt64()),
        ValueTag.DateTimeOffset => new DateTimeOffset(reader.ReadInt64(), TimeSpan.FromMinutes(reader.ReadInt16())),
        ValueTag.TimeSpan => new TimeSpan(reader.ReadInt64()),
        ValueTag.Guid => new Guid(reader.ReadBytes(16)),
        ValueTag.UInt64 => reader.ReadUInt64(),
        ValueTag.DateOnly => DateOnly.FromDayNumber(reader.ReadInt32()),
        ValueTag.TimeOnly => new TimeOnly(reader.ReadInt64()),
        ValueTag.Bits => ReadBits(reader),
        ValueTag.Interval => new NpgsqlInterval(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64()),
        var tag => throw new InvalidDataException($"The spill file holds an unknown value tag {tag}."),
    };

    private static byte[] BitBytes(BitArray bits)
    {
        var bytes = new byte[(bits.Length + 7) / 8];
        bits.CopyTo(bytes, 0);
        return bytes;
    }

    private static BitArray ReadBits(BinaryReader reader)
    {
        var length = reader.ReadInt32();
        return new BitArray(reader.ReadBytes((length + 7) / 8)) { Length = length };
    }
}
