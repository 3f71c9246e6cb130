using System.Net;
using System.Net.Sockets;
using System.Text;
using Prometheus;

namespace Molt.Engine.Metrics;

/// <summary>
/// Serves a registry's text exposition on an IPv6 address, for which HttpListener cannot be used: outside Windows its
/// prefix parser splits the host at the first colon, so <c>http://[::1]:9464/</c> is refused. One request per connection,
/// GET /metrics only; the exposition itself is prometheus-net's, as on every other address.
/// </summary>
internal sealed class SocketMetricServer : IAsyncDisposable
{
    private const int MaxRequestHead = 8192;

    private readonly TcpListener listener;
    private readonly CollectorRegistry registry;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task serving;

    /// <exception cref="SocketException">The address cannot be listened on.</exception>
    public SocketMetricServer(IPAddress address, int port, CollectorRegistry registry)
    {
        this.registry = registry;
        listener = new TcpListener(address, port);
        listener.Start();
        serving = ServeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        listener.Stop();
        await serving.ConfigureAwait(false);
        stopping.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => RespondAsync(client));
        }
    }

    private async Task RespondAsync(TcpClient client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream, timeout.Token).ConfigureAwait(false);
                var found = head.StartsWith("GET /metrics ", StringComparison.Ordinal) || head.StartsWith("GET /metrics/ ", StringComparison.Ordinal);
                using var body = new MemoryStream();
                if (found)
                {
                    await registry.CollectAndExportAsTextAsync(body, timeout.Token).ConfigureAwait(false);
                }

                var status = found ? "200 OK" : "404 Not Found";
                var header = $"HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(header), timeout.Token).ConfigureAwait(false);
                await stream.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The scraper went away or the server is stopping; the next scrape is a new connection.
            }
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestHead];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, length);
    }
}
