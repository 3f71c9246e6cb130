using System.Net;
using System.Net.Sockets;

namespace Molt.Testing;

/// <summary>One proxied connection: a pump each way, and the two sockets it closes together.</summary>
internal sealed class TcpFaultProxyConnection(Socket client, Socket server, TcpFaultProxyGate gate, Action<int> discarded)
{
    private const int BufferSize = 64 * 1024;

    private readonly TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int serverSidePort = ((IPEndPoint)server.LocalEndPoint!).Port;
    private int closed;
    private volatile bool clientDropped;
    private volatile bool discardingFromClient;

    /// <summary>Completes once both sockets are closed.</summary>
    public Task Completion => done.Task;

    /// <summary>The local port of the socket to the server: the client port the server sees (PostgreSQL's client_port).</summary>
    public int ServerSidePort => serverSidePort;

    /// <summary>From now on the client's bytes are read and thrown away; the server's still reach the client, and the client's end of stream still ends the server's side.</summary>
    public void DiscardFromClient() => discardingFromClient = true;

    public void Start(CancellationToken ct) =>
        _ = Task.WhenAll(PumpAsync(client, server, ct), PumpAsync(server, client, ct)).ContinueWith(_ =>
        {
            // A dropped client leaves the server's socket open until the proxy closes everything.
            if (!clientDropped)
            {
                Close(reset: false);
            }
        }, TaskScheduler.Default);

    /// <summary>Resets the client's socket and stops relaying; the server's socket stays open, and nothing more is read from it.</summary>
    public void DropClient()
    {
        clientDropped = true;
        Abort(client);
    }

    /// <summary>Closes both sides: with a FIN after a shutdown, or (<paramref name="reset"/>) with an RST.</summary>
    public void Close(bool reset)
    {
        if (Interlocked.Exchange(ref closed, 1) != 0)
        {
            return;
        }

        foreach (var socket in (Socket[])[client, server])
        {
            if (reset)
            {
                Abort(socket);
            }
            else
            {
                Shut(socket);
            }
        }

        done.TrySetResult();
    }

    /// <summary>Linger 0: closing sends an RST instead of a FIN, and drops what was not sent.</summary>
    public static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed already: there is nothing left to reset.
        }

        socket.Dispose();
    }

    private static void Shut(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The peer is gone already.
        }

        socket.Dispose();
    }

    /// <summary>
    /// Relays <paramref name="from"/> to <paramref name="to"/> until either ends. Each chunk waits at the gate before it is
    /// written, so a stall holds bytes rather than losing them; an end of stream is passed on as a half-close, and an error
    /// on either socket resets the whole connection, as a broken path would.
    /// </summary>
    private async Task PumpAsync(Socket from, Socket to, CancellationToken ct)
    {
        var buffer = new byte[BufferSize];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
                await gate.WaitAsync(ct).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                // Checked after the read, so a chunk read once discarding began is never written.
                if (discardingFromClient && from == client)
                {
                    discarded(read);
                    continue;
                }

                for (var sent = 0; sent < read;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, ct).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!clientDropped)
            {
                Close(reset: true);
            }
        }
    }
}

/// <summary>Open: bytes move. Closed: every pump waits before writing its next chunk, until opened again.</summary>
internal sealed class TcpFaultProxyGate
{
    private readonly Lock sync = new();
    private TaskCompletionSource opened = NewOpened();

    public bool IsClosed => !opened.Task.IsCompleted;

    public void Close()
    {
        lock (sync)
        {
            if (opened.Task.IsCompleted)
            {
                opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    public void Open()
    {
        lock (sync)
        {
            opened.TrySetResult();
        }
    }

    public Task WaitAsync(CancellationToken ct) => opened.Task.IsCompleted ? Task.CompletedTask : opened.Task.WaitAsync(ct);

    private static TaskCompletionSource NewOpened()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }
}
