using System.Security.Cryptography;
using System.Text;

namespace Molt.MySqlBinlog.Auth;

/// <summary>
/// caching_sha2_password: the fast-auth scramble XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) + nonce)), and for full
/// authentication without TLS the password + NUL, XORed with the nonce, encrypted with the server's RSA key (OAEP).
/// </summary>
internal static class CachingSha2Password
{
    public const string PluginName = "caching_sha2_password";

    /// <summary>The byte after 0x01 (more data) telling the client its scramble matched the server's cache.</summary>
    public const byte FastAuthSuccess = 0x03;

    /// <summary>The byte after 0x01 (more data) asking for the password itself.</summary>
    public const byte PerformFullAuthentication = 0x04;

    /// <summary>What the client sends to ask for the server's RSA public key.</summary>
    public const byte RequestPublicKey = 0x02;

    public static byte[] Scramble(string password, ReadOnlySpan<byte> nonce)
    {
        if (password.Length == 0)
        {
            return [];
        }

        var stage1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        var stage2 = SHA256.HashData(stage1);
        var mix = SHA256.HashData([.. SHA256.HashData(stage2), .. nonce[..Math.Min(20, nonce.Length)]]);
        for (var i = 0; i < stage1.Length; i++)
        {
            stage1[i] ^= mix[i];
        }

        return stage1;
    }

    /// <summary>The cleartext form, sent only over TLS.</summary>
    public static byte[] Cleartext(string password) => [.. Encoding.UTF8.GetBytes(password), 0];

    public static byte[] Encrypt(string password, ReadOnlySpan<byte> nonce, string publicKeyPem)
    {
        var plain = Cleartext(password);
        var salt = nonce[..Math.Min(20, nonce.Length)];
        for (var i = 0; i < plain.Length; i++)
        {
            plain[i] ^= salt[i % salt.Length];
        }

        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(publicKeyPem);
        }
        catch (ArgumentException e)
        {
            throw new BinlogException(BinlogErrorIds.AuthenticationFailed, "The server's RSA public key is not a PEM public key.", innerException: e);
        }

        return rsa.Encrypt(plain, RSAEncryptionPadding.OaepSHA1);
    }
}
