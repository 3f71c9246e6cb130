using System.Buffers.Binary;

namespace Molt.Engine.Load;

/// <summary>
/// Counts the tuples of a PostgreSQL binary COPY stream as its bytes pass by, without decoding any value: it walks
/// only the header, the per-tuple field counts and the per-field lengths.
/// </summary>
internal sealed class BinaryCopyCounter
{
    private const int SignatureLength = 11;

    private readonly byte[] pending = new byte[4];
    private int pendingLength;
    private State state = State.Header;
    private long skip = SignatureLength + 4;
    private int fieldsLeft;

    private enum State
    {
        Header,
        HeaderExtensionLength,
        TupleFieldCount,
        FieldLength,
        FieldData,
        Trailer,
    }

    public long Tuples { get; private set; }

    public long Bytes { get; private set; }

    public bool SawTrailer => state == State.Trailer;

    public void Observe(ReadOnlySpan<byte> data)
    {
        Bytes += data.Length;
        while (!data.IsEmpty && state != State.Trailer)
        {
            switch (state)
            {
                case State.Header:
                case State.FieldData:
                    var skipped = (int)Math.Min(skip, data.Length);
                    skip -= skipped;
                    data = data[skipped..];
                    if (skip == 0)
                    {
                        state = state == State.Header ? State.HeaderExtensionLength : NextAfterField();
                    }

                    break;
                case State.HeaderExtensionLength:
                    if (TryTake(ref data, 4, out var extension))
                    {
                        skip = BinaryPrimitives.ReadInt32BigEndian(extension);
                        state = skip == 0 ? State.TupleFieldCount : State.FieldData;
                        fieldsLeft = 0;
                    }

                    break;
                case State.TupleFieldCount:
                    if (TryTake(ref data, 2, out var count))
                    {
                        fieldsLeft = BinaryPrimitives.ReadInt16BigEndian(count);
                        if (fieldsLeft < 0)
                        {
                            state = State.Trailer;
                        }
                        else
                        {
                            Tuples++;
                            state = fieldsLeft == 0 ? State.TupleFieldCount : State.FieldLength;
                        }
                    }

                    break;
                case State.FieldLength:
                    if (TryTake(ref data, 4, out var length))
                    {
                        fieldsLeft--;
                        skip = Math.Max(BinaryPrimitives.ReadInt32BigEndian(length), 0);
                        state = skip == 0 ? NextAfterField() : State.FieldData;
                    }

                    break;
            }
        }
    }

    private State NextAfterField() => fieldsLeft > 0 ? State.FieldLength : State.TupleFieldCount;

    // Gathers a fixed-size integer that may be split across chunks.
    private bool TryTake(ref ReadOnlySpan<byte> data, int size, out ReadOnlySpan<byte> value)
    {
        var needed = size - pendingLength;
        var taken = Math.Min(needed, data.Length);
        data[..taken].CopyTo(pending.AsSpan(pendingLength));
        pendingLength += taken;
        data = data[taken..];
        if (pendingLength < size)
        {
            value = default;
            return false;
        }

        pendingLength = 0;
        value = pending.AsSpan(0, size);
        return true;
    }
}
