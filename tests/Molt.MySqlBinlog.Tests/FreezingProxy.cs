using System.Net;
using System.Net.Sockets;

namespace Molt.MySqlBinlog.Tests;

/// <summary>A loopback TCP forwarder that can stop forwarding while keeping both sockets open: a half-dead connection.</summary>
internal sealed class FreezingProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly List<TcpClient> sockets = [];
    private readonly Task accepting;
    private volatile bool frozen;

    public FreezingProxy(string host, int port)
    {
        listener.Start();
        accepting = AcceptAsync(host, port);
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public void Freeze() => frozen = true;

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        lock (sockets)
        {
            sockets.ForEach(s => s.Dispose());
        }

        await accepting.ContinueWith(_ => { });
        stop.Dispose();
    }

    private async Task AcceptAsync(string host, int port)
    {
        while (!stop.IsCancellationRequested)
        {
            var inbound = await listener.AcceptTcpClientAsync(stop.Token);
            var outbound = new TcpClient();
            await outbound.ConnectAsync(host, port, stop.Token);
            lock (sockets)
            {
                sockets.Add(inbound);
                sockets.Add(outbound);
            }

            _ = PumpAsync(inbound.GetStream(), outbound.GetStream());
            _ = PumpAsync(outbound.GetStream(), inbound.GetStream());
        }
    }

    private async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, stop.Token);
                if (read == 0 || frozen)
                {
                    // Frozen: swallow everything from now on, as a dead network would.
                    if (read == 0)
                    {
                        return;
                    }

                    continue;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The test is over or a side closed.
        }
    }
}
