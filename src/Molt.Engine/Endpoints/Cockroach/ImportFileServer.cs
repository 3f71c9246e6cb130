using System.Net;

namespace Molt.Engine.Endpoints.Cockroach;

/// <summary>
/// Serves the IMPORT INTO files of one folder over plain HTTP while a load runs, as MOLT Fetch's local file server does,
/// for clusters that can reach this machine. GET and HEAD only, files of the folder and its subfolders only.
/// </summary>
internal sealed class ImportFileServer : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly string root;
    private readonly Task serving;

    private ImportFileServer(string root, string listenAddress)
    {
        this.root = Path.GetFullPath(root);
        var host = listenAddress.StartsWith("0.0.0.0:", StringComparison.Ordinal) ? "+" + listenAddress[7..] : listenAddress;
        listener.Prefixes.Add($"http://{host}/");
        listener.Start();
        serving = ServeAsync();
    }

    /// <exception cref="MoltException">The address cannot be listened on.</exception>
    public static ImportFileServer Start(string root, string listenAddress)
    {
        try
        {
            return new ImportFileServer(root, listenAddress);
        }
        catch (HttpListenerException ex)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "ImportListenFailed",
                $"Molt could not serve the import files on {listenAddress}: {ex.Message}",
                "Give -ImportListenAddress a free host:port of this machine that the CockroachDB nodes can reach.", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await serving.ConfigureAwait(false);
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => RespondAsync(context));
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var path = Resolve(context.Request.Url?.AbsolutePath);
            if (context.Request.HttpMethod is not ("GET" or "HEAD"))
            {
                response.StatusCode = (int)HttpStatusCode.MethodNotAllowed;
            }
            else if (path is null || !File.Exists(path))
            {
                response.StatusCode = (int)HttpStatusCode.NotFound;
            }
            else
            {
                await using var file = File.OpenRead(path);
                response.ContentType = "text/csv";
                response.ContentLength64 = file.Length;
                if (context.Request.HttpMethod == "GET")
                {
                    await file.CopyToAsync(response.OutputStream).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or HttpListenerException or UnauthorizedAccessException)
        {
            // The node went away mid-download; IMPORT INTO retries or fails on its side.
        }
        finally
        {
            response.Close();
        }
    }

    /// <summary>The file a URL path names inside the root, or null for anything outside it.</summary>
    private string? Resolve(string? urlPath)
    {
        if (string.IsNullOrEmpty(urlPath))
        {
            return null;
        }

        var full = Path.GetFullPath(Path.Combine(root, Uri.UnescapeDataString(urlPath).TrimStart('/')));
        return full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full : null;
    }
}
