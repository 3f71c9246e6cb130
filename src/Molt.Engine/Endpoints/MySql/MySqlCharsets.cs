using System.Text;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// A text column's bytes decoded in its character set, as a binlog row carries them (the load's reader receives text
/// already converted to utf8mb4 by the server).
/// </summary>
internal static class MySqlCharsets
{
    /// <summary>
    /// MySQL's latin1 is cp1252 with the five bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) kept as the
    /// C1 controls of the same number (https://dev.mysql.com/doc/refman/8.0/en/charset-we-sets.html); these are 0x80..0x9F.
    /// </summary>
    private const string Latin1High =
        "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F" +
        "\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178";

    private static readonly UTF32Encoding Utf32BigEndian = new(bigEndian: true, byteOrderMark: false);

    /// <summary>The text of <paramref name="bytes"/> in <paramref name="charset"/>; without a character set (binary) as UTF-8.</summary>
    public static string Decode(byte[] bytes, string? charset, string column) => charset?.ToLowerInvariant() switch
    {
        null or "binary" or "utf8mb4" or "utf8mb3" or "utf8" => Encoding.UTF8.GetString(bytes),
        "ascii" => Encoding.ASCII.GetString(bytes),
        "ucs2" or "utf16" => Encoding.BigEndianUnicode.GetString(bytes),
        "utf16le" => Encoding.Unicode.GetString(bytes),
        "utf32" => Utf32BigEndian.GetString(bytes),
        "latin1" => Latin1(bytes),
        _ => throw new MoltException(MoltErrorKind.UnsupportedType, "UnsupportedCharacterSet",
            $"Column {column} is in the character set {charset}, whose bytes Molt cannot decode.",
            "Convert the column to utf8mb4 on the source (ALTER TABLE ... CONVERT TO CHARACTER SET utf8mb4), or map it to bytea in the type-map file."),
    };

    private static string Latin1(byte[] bytes) =>
        string.Create(bytes.Length, bytes, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var b = source[i];
                span[i] = b is >= 0x80 and <= 0x9F ? Latin1High[b - 0x80] : (char)b;
            }
        });
}
