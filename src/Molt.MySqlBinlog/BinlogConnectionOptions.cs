using System.Net.Security;

namespace Molt.MySqlBinlog;

public enum BinlogTlsMode
{
    /// <summary>Plain TCP.</summary>
    Disabled,

    /// <summary>TLS when the server offers it, plain TCP otherwise.</summary>
    Preferred,

    /// <summary>TLS or fail.</summary>
    Required,
}

/// <summary>Where and how to connect; the password is never part of any message or ToString.</summary>
public sealed class BinlogConnectionOptions
{
    public required string Host { get; init; }

    public int Port { get; init; } = 3306;

    public required string User { get; init; }

    public string Password { get; init; } = "";

    public BinlogTlsMode TlsMode { get; init; } = BinlogTlsMode.Disabled;

    /// <summary>Validates the server certificate under TLS; null uses the system's validation for <see cref="Host"/>.</summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; init; }

    /// <summary>The server's RSA public key (PEM) for caching_sha2_password full authentication without TLS.</summary>
    public string? ServerRsaPublicKeyPem { get; init; }

    /// <summary>Lets caching_sha2_password ask the server for its RSA key when neither TLS nor a key is given.</summary>
    public bool AllowPublicKeyRetrieval { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public override string ToString() => $"{User}@{Host}:{Port}";
}
