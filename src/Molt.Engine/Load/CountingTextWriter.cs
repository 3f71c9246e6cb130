using System.Text;

namespace Molt.Engine.Load;

/// <summary>Passes text on to another writer, counting the bytes it takes in that writer's encoding.</summary>
internal sealed class CountingTextWriter(TextWriter inner) : TextWriter
{
    // Stateful, so that a surrogate pair split across two writes counts as the one character it is.
    private readonly Encoder encoder = inner.Encoding.GetEncoder();

    public long Bytes { get; private set; }

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => Write(new ReadOnlySpan<char>(in value));

    public override void Write(ReadOnlySpan<char> buffer)
    {
        Bytes += encoder.GetByteCount(buffer, flush: false);
        inner.Write(buffer);
    }

    public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
    {
        Bytes += encoder.GetByteCount(buffer.Span, flush: false);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
}
