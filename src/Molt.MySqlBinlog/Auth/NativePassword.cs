using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Molt.MySqlBinlog.Auth;

/// <summary>mysql_native_password: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))).</summary>
internal static class NativePassword
{
    public const string PluginName = "mysql_native_password";

    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "SHA1 is what the mysql_native_password protocol is defined with.")]
    public static byte[] Scramble(string password, ReadOnlySpan<byte> nonce)
    {
        if (password.Length == 0)
        {
            return [];
        }

        var stage1 = SHA1.HashData(Encoding.UTF8.GetBytes(password));
        var stage2 = SHA1.HashData(stage1);
        var mix = SHA1.HashData([.. nonce[..Math.Min(20, nonce.Length)], .. stage2]);
        for (var i = 0; i < stage1.Length; i++)
        {
            stage1[i] ^= mix[i];
        }

        return stage1;
    }
}
