using System.Buffers.Binary;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// MySQL's and MariaDB's spatial values. Both store (and the binlog carries) a geometry as its SRID, 4 bytes little-endian,
/// followed by its WKB (https://dev.mysql.com/doc/refman/8.0/en/gis-data-formats.html, "Internal Geometry Storage Format");
/// PostGIS and CockroachDB read EWKB, which is the WKB with the SRID flag (0x20000000) set in its type and the SRID after
/// it (https://postgis.net/docs/using_postgis_dbmanagement.html#EWKB_EWKT). A SRID of 0 is plain WKB, as PostGIS writes it.
/// </summary>
internal static class MySqlSpatial
{
    private const uint SridFlag = 0x20000000;

    /// <summary>The SRID, then WKB's byte order and its 4-byte type.</summary>
    private const int MinimumLength = 4 + 1 + 4;

    public static bool IsSpatial(ColumnModel column) => column.Type.Family == ColumnTypeFamily.Spatial;

    /// <summary>The value in MySQL's layout as EWKB; throws <see cref="FormatException"/> for bytes shorter than a geometry.</summary>
    public static byte[] ToEwkb(ReadOnlySpan<byte> stored)
    {
        if (stored.Length < MinimumLength || stored[4] > 1)
        {
            throw new FormatException($"{stored.Length} bytes are not a MySQL geometry (a 4-byte SRID, then WKB).");
        }

        var srid = BinaryPrimitives.ReadUInt32LittleEndian(stored);
        var wkb = stored[4..];
        if (srid == 0)
        {
            return wkb.ToArray();
        }

        var littleEndian = wkb[0] == 1;
        var type = littleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(wkb[1..]) : BinaryPrimitives.ReadUInt32BigEndian(wkb[1..]);
        var ewkb = new byte[wkb.Length + 4];
        ewkb[0] = wkb[0];
        if (littleEndian)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(ewkb.AsSpan(1), type | SridFlag);
            BinaryPrimitives.WriteUInt32LittleEndian(ewkb.AsSpan(5), srid);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(ewkb.AsSpan(1), type | SridFlag);
            BinaryPrimitives.WriteUInt32BigEndian(ewkb.AsSpan(5), srid);
        }

        wkb[5..].CopyTo(ewkb.AsSpan(9));
        return ewkb;
    }

    /// <summary>
    /// The column's EWKB computed on the server, for comparing with the target's: MySQL and MariaDB write WKB
    /// little-endian, so the SRID flag goes into the type's last byte. Built from the stored bytes, as the load converts
    /// them, rather than by ST_AsBinary, whose axis order MySQL 8 takes from a geographic SRID.
    /// </summary>
    public static string EwkbExpression(string quotedColumn) =>
        $"IF(ST_SRID({quotedColumn}) = 0, SUBSTRING({quotedColumn}, 5), CAST(CONCAT(SUBSTRING({quotedColumn}, 5, 4), " +
        $"CHAR(ASCII(SUBSTRING({quotedColumn}, 9, 1)) | 0x20), SUBSTRING({quotedColumn}, 1, 4), SUBSTRING({quotedColumn}, 10)) AS BINARY))";
}
