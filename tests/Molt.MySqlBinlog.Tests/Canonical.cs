using System.Globalization;

namespace Molt.MySqlBinlog.Tests;

/// <summary>A decoded value as "Type:text", so a value of the wrong CLR type fails as surely as a wrong value.</summary>
internal static class Canonical
{
    public static string Of(object? value) => value switch
    {
        null => "null",
        byte[] bytes => "bytes:" + Convert.ToHexString(bytes),
        float f => "Single:" + f.ToString("R", CultureInfo.InvariantCulture),
        double d => "Double:" + d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => $"{value.GetType().Name}:{formattable.ToString(null, CultureInfo.InvariantCulture)}",
        _ => $"{value.GetType().Name}:{value}",
    };

    public static byte[] Utf8(string text) => System.Text.Encoding.UTF8.GetBytes(text);
}
