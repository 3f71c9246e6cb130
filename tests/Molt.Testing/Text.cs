using System.Security.Cryptography;

namespace Molt.Testing;

internal static class Text
{
    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /// <summary>Letters and digits only, so the password needs no quoting in SQL, URIs or command lines.</summary>
    public static string NewPassword() => RandomNumberGenerator.GetString(PasswordAlphabet, 24);

    public static string RandomName() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public static string Tail(string text, int lines = 30)
    {
        var all = text.TrimEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public static string Redact(string text, string secret) =>
        secret.Length == 0 ? text : text.Replace(secret, "********", StringComparison.Ordinal);
}
