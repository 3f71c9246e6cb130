namespace Molt.MySqlBinlog.Protocol;

/// <summary>The server's protocol-10 greeting: version, connection id, capabilities, auth nonce and default plugin.</summary>
internal sealed record InitialHandshake(
    string ServerVersion,
    uint ConnectionId,
    Capabilities ServerCapabilities,
    byte CharacterSet,
    byte[] AuthPluginData,
    string AuthPluginName)
{
    public bool IsMariaDb => ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    public static InitialHandshake Parse(ReadOnlySpan<byte> payload)
    {
        ServerPackets.ThrowIfError(payload, "connect");
        var reader = new PayloadReader(payload);
        var protocol = reader.ReadByte();
        if (protocol != 10)
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation, $"The server speaks protocol version {protocol}; only version 10 is supported.");
        }

        var version = reader.ReadNullTerminatedString();
        var connectionId = reader.ReadUInt32();
        var nonce = new List<byte>(reader.ReadBytes(8).ToArray());
        reader.Skip(1);
        var capabilities = (uint)reader.ReadUInt16();
        byte charset = 0;
        var pluginDataLength = 0;
        var plugin = "mysql_native_password";
        if (!reader.AtEnd)
        {
            charset = reader.ReadByte();
            reader.Skip(2);
            capabilities |= (uint)reader.ReadUInt16() << 16;
            pluginDataLength = reader.ReadByte();
            reader.Skip(10);
            if (((Capabilities)capabilities).HasFlag(Capabilities.SecureConnection))
            {
                // The second part is at least 13 bytes, the last of them a NUL that is not part of the nonce.
                var second = reader.ReadBytes(Math.Max(13, pluginDataLength - 8));
                nonce.AddRange(second[^1] == 0 ? second[..^1] : second);
            }

            if (((Capabilities)capabilities).HasFlag(Capabilities.PluginAuth) && !reader.AtEnd)
            {
                var name = reader.ReadRest();
                plugin = System.Text.Encoding.ASCII.GetString(name.IndexOf((byte)0) is var end and >= 0 ? name[..end] : name);
            }
        }

        return new InitialHandshake(version, connectionId, (Capabilities)capabilities, charset, [.. nonce], plugin);
    }
}
