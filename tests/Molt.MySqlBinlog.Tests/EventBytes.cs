using System.Buffers.Binary;
using System.IO.Hashing;

namespace Molt.MySqlBinlog.Tests;

/// <summary>Builds raw events in the v4 layout (19-byte header, body, optional CRC32) for the byte-level tests.</summary>
internal static class EventBytes
{
    public static byte[] Build(byte type, byte[] body, bool crc32, uint logPosition = 1000)
    {
        var size = 19 + body.Length + (crc32 ? 4 : 0);
        var raw = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(raw, 1_700_000_000);
        raw[4] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(5), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(9), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(13), logPosition);
        body.CopyTo(raw, 19);
        if (crc32)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(size - 4), Crc32.HashToUInt32(raw.AsSpan(0, size - 4)));
        }

        return raw;
    }

    public static byte[] Xid(ulong xid)
    {
        var body = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(body, xid);
        return body;
    }

    /// <summary>A QUERY body: thread id, seconds, schema length, error code, no status variables, schema + NUL, text.</summary>
    public static byte[] Query(string schema, string text) =>
        [1, 0, 0, 0, 0, 0, 0, 0, (byte)schema.Length, 0, 0, 0, 0, .. System.Text.Encoding.UTF8.GetBytes(schema), 0, .. System.Text.Encoding.UTF8.GetBytes(text)];
}
