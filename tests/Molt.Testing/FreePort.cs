using System.Net;
using System.Net.Sockets;

namespace Molt.Testing;

public static class FreePort
{
    /// <summary>A port the OS just considered free; another process may still take it, so callers retry on a collision.</summary>
    public static int Pick()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
