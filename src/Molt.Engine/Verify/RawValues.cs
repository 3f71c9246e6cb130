using MySqlConnector;

namespace Molt.Engine.Verify;

/// <summary>
/// A shortcut before normalising: two values as read that are equal in what their normalised text is made of (the same
/// type, equal as that type) normalise alike, so most equal rows are known equal without building a string. Anything
/// else (floats, whose normalised text differs from their own: -0 is 0; types that differ between the sides) answers false,
/// and the caller compares normalised texts.
/// </summary>
internal static class RawValues
{
    public static bool Same(object? left, object? right) => (left, right) switch
    {
        (null or DBNull, null or DBNull) => true,
        (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
        (long a, long b) => a == b,
        (int a, int b) => a == b,
        (short a, short b) => a == b,
        (bool a, bool b) => a == b,
        (Guid a, Guid b) => a == b,
        (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),
        // The normaliser writes a DateTime (MariaDB's valid MySqlDateTime as one) from its ticks alone, whatever its Kind.
        (DateTime a, DateTime b) => a.Ticks == b.Ticks,
        (MySqlDateTime { IsValidDateTime: true } a, DateTime b) => a.GetDateTime().Ticks == b.Ticks,
        (DateTime a, MySqlDateTime { IsValidDateTime: true } b) => a.Ticks == b.GetDateTime().Ticks,
        _ => false,
    };
}
