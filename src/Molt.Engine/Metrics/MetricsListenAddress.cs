using System.Globalization;
using System.Net;

namespace Molt.Engine.Metrics;

/// <summary>
/// Where the metrics server listens: <c>host:port</c>, <c>[IPv6]:port</c>, or <c>0.0.0.0:port</c> / <c>*:port</c> for
/// every interface. Parsed before anything listens, so a typo fails with a remedy rather than an HttpListener message.
/// </summary>
internal sealed record MetricsListenAddress(string Host, int Port)
{
    /// <summary>The host as HttpListener takes it in a prefix ("+" for every interface).</summary>
    public string ListenerHost => Host is "0.0.0.0" or "*" or "+" or "[::]" ? "+" : Host;

    /// <summary>The IPv6 address in brackets, or null for a name or an IPv4 address.</summary>
    public IPAddress? IPv6 => Host.StartsWith('[') && Host != "[::]" ? IPAddress.Parse(Host[1..^1]) : null;

    public override string ToString() => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <exception cref="MoltException"><c>MetricsAddressInvalid</c>: not host:port with a port from 1 to 65535.</exception>
    public static MetricsListenAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.LastIndexOf(':');
        if (colon > 0 && colon < text.Length - 1
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            && ValidHost(text[..colon]) is { } host)
        {
            return new MetricsListenAddress(host, port);
        }

        throw new MoltException(MoltErrorKind.InvalidArgument, "MetricsAddressInvalid",
            $"'{text}' is not an address the metrics server can listen on.",
            "Give -MetricsListenAddress as host:port, e.g. 127.0.0.1:9464, 0.0.0.0:9464 for every interface, or [::1]:9464 for IPv6.")
        {
            Target = text,
        };
    }

    private static string? ValidHost(string host)
    {
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            return IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? host : null;
        }

        // An unbracketed IPv6 address would make the port a guess; a name or IPv4 address has no colon.
        return host is "*" or "+" || (!host.Contains(':', StringComparison.Ordinal) && Uri.CheckHostName(host) is UriHostNameType.Dns or UriHostNameType.IPv4)
            ? host : null;
    }
}
