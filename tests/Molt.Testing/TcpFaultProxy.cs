using System.Net;
using System.Net.Sockets;

namespace Molt.Testing;

/// <summary>
/// A loopback TCP forwarder between a client under test and a server, which breaks the network on command: closes every
/// connection (<see cref="Cut"/>, FIN) or resets it (<see cref="Reset"/>, RST), stops moving bytes while the sockets stay
/// open (<see cref="Stall"/> until <see cref="Resume"/>: a half-dead network), or refuses new connections. It knows no
/// protocol: bytes are relayed as they come, so it serves PostgreSQL and MySQL alike.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    private readonly TcpListener listener;
    private readonly string targetHost;
    private readonly int targetPort;
    private readonly CancellationTokenSource stopping = new();
    private readonly TcpFaultProxyGate gate = new();
    private readonly List<TcpFaultProxyConnection> connections = [];
    private readonly Task accepting;
    private long accepted;
    private long refused;
    private long discarded;
    private volatile bool refusing;
    private int disposed;

    private TcpFaultProxy(string targetHost, int targetPort)
    {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        accepting = AcceptAsync(stopping.Token);
    }

    /// <summary>The address clients connect to instead of the server's.</summary>
    public string Host => "127.0.0.1";

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Connections accepted and forwarded since the proxy started (refused ones are not counted).</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref accepted);

    /// <summary>Connections reset at once because <see cref="RefuseNew"/> was on, or because the server could not be reached.</summary>
    public long ConnectionsRefused => Interlocked.Read(ref refused);

    /// <summary>Connections open now (both sides connected, not yet closed).</summary>
    public int OpenConnections
    {
        get
        {
            lock (connections)
            {
                return connections.Count;
            }
        }
    }

    public bool IsStalled => gate.IsClosed;

    /// <summary>Bytes clients sent that <see cref="DiscardFromClient"/> threw away.</summary>
    public long BytesDiscarded => Interlocked.Read(ref discarded);

    /// <summary>Starts forwarding a free loopback port to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static TcpFaultProxy Start(string host, int port) => new(host, port);

    /// <summary>Closes every open connection on both sides with a FIN, as a server or middlebox closing them cleanly would; returns how many.</summary>
    public int Cut() => CloseAll(reset: false);

    /// <summary>Resets every open connection on both sides (RST, linger 0), as a crashed peer or a firewall would; returns how many.</summary>
    public int Reset() => CloseAll(reset: true);

    /// <summary>
    /// Resets every open connection on the client's side only and leaves the server's side open and unread, as a NAT or
    /// load balancer that forgets its connections does: the client sees its connection gone at once, the server only when
    /// its own timeouts say so. Returns how many.
    /// </summary>
    public int DropClientSides()
    {
        TcpFaultProxyConnection[] open;
        lock (connections)
        {
            open = [.. connections];
        }

        foreach (var connection in open)
        {
            connection.DropClient();
        }

        return open.Length;
    }

    /// <summary>
    /// Stops moving bytes in both directions, on the open connections and on any accepted meanwhile, while every socket
    /// stays open: neither side sees an error, only silence. Bytes already read are held and delivered on <see cref="Resume"/>.
    /// </summary>
    public void Stall() => gate.Close();

    public void Resume() => gate.Open();

    /// <summary>
    /// Cuts one direction of one connection: what its client sends from now on is read and thrown away, so the server never
    /// sees it (not even once the connection ends), while the server's bytes still reach the client. The connection is the
    /// one the server sees coming from port <paramref name="serverSeesClientPort"/> (PostgreSQL's client_port). A client
    /// whose acknowledgements must provably never arrive, e.g. a replication client's confirms, is held this way. Returns
    /// false when no open connection has that port.
    /// </summary>
    public bool DiscardFromClient(int serverSeesClientPort)
    {
        TcpFaultProxyConnection? match;
        lock (connections)
        {
            match = connections.Find(c => c.ServerSidePort == serverSeesClientPort);
        }

        match?.DiscardFromClient();
        return match is not null;
    }

    /// <summary>While on, each new connection is reset as soon as it is accepted (open ones are left alone).</summary>
    public void RefuseNew(bool refuse) => refusing = refuse;

    /// <summary>Waits until <see cref="ConnectionsAccepted"/> reaches <paramref name="count"/>.</summary>
    public async Task WaitForConnectionsAsync(long count, CancellationToken ct)
    {
        while (ConnectionsAccepted < count)
        {
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    public override string ToString() => $"proxy {Host}:{Port} -> {targetHost}:{targetPort}";

    /// <summary>Stops listening and resets every connection; never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        listener.Stop();
        gate.Open();
        CloseAll(reset: true);
        TcpFaultProxyConnection[] open;
        lock (connections)
        {
            open = [.. connections];
        }

        await Task.WhenAll(open.Select(c => c.Completion).Append(accepting)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        stopping.Dispose();
    }

    private int CloseAll(bool reset)
    {
        TcpFaultProxyConnection[] open;
        lock (connections)
        {
            open = [.. connections];
        }

        foreach (var connection in open)
        {
            connection.Close(reset);
        }

        return open.Length;
    }

    private async Task AcceptAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (refusing)
            {
                Interlocked.Increment(ref refused);
                TcpFaultProxyConnection.Abort(client);
                continue;
            }

            _ = ConnectAsync(client, ct);
        }
    }

    private async Task ConnectAsync(Socket client, CancellationToken ct)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await server.ConnectAsync(targetHost, targetPort, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The server is down (restarting, say): the client sees its connection reset, as it would see a refusal.
            Interlocked.Increment(ref refused);
            TcpFaultProxyConnection.Abort(client);
            server.Dispose();
            return;
        }

        client.NoDelay = true;
        var connection = new TcpFaultProxyConnection(client, server, gate, read => Interlocked.Add(ref discarded, read));
        lock (connections)
        {
            connections.Add(connection);
        }

        Interlocked.Increment(ref accepted);
        connection.Start(ct);
        await connection.Completion.ConfigureAwait(false);
        lock (connections)
        {
            connections.Remove(connection);
        }
    }
}
