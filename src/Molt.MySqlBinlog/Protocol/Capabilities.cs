namespace Molt.MySqlBinlog.Protocol;

/// <summary>The capability flags of the handshake (the MariaDB extended ones are not used).</summary>
[Flags]
internal enum Capabilities : uint
{
    LongPassword = 1,
    FoundRows = 1 << 1,
    LongFlag = 1 << 2,
    ConnectWithDb = 1 << 3,
    Protocol41 = 1 << 9,
    Ssl = 1 << 11,
    Transactions = 1 << 13,
    SecureConnection = 1 << 15,
    MultiStatements = 1 << 16,
    MultiResults = 1 << 17,
    PluginAuth = 1 << 19,
    ConnectAttributes = 1 << 20,
    PluginAuthLengthEncodedData = 1 << 21,
    DeprecateEof = 1 << 24,
}
