using System.Buffers.Binary;
using Molt.Engine.Load;

namespace Molt.Engine.Tests.Load;

public sealed class BinaryCopyCounterTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public void CountsTuplesWhateverTheChunkBoundaries(int chunkSize)
    {
        var stream = CopyStream(headerExtension: 4, ("abc", null, "x"), (null, null, null), ("", "long value here", "z"));
        var counter = new BinaryCopyCounter();
        for (var offset = 0; offset < stream.Length; offset += chunkSize)
        {
            counter.Observe(stream.AsSpan(offset, Math.Min(chunkSize, stream.Length - offset)));
        }

        Assert.Equal(3, counter.Tuples);
        Assert.Equal(stream.Length, counter.Bytes);
        Assert.True(counter.SawTrailer);
    }

    [Fact]
    public void AStreamCutBeforeItsTrailerIsNotComplete()
    {
        var stream = CopyStream(headerExtension: 0, ("a", "b", "c"));
        var counter = new BinaryCopyCounter();
        counter.Observe(stream.AsSpan(0, stream.Length - 2));
        Assert.Equal(1, counter.Tuples);
        Assert.False(counter.SawTrailer);
    }

    private static byte[] CopyStream(int headerExtension, params (string?, string?, string?)[] rows)
    {
        var bytes = new List<byte>();
        bytes.AddRange([(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xff, (byte)'\r', (byte)'\n', 0]);
        AddInt32(bytes, 0);
        AddInt32(bytes, headerExtension);
        bytes.AddRange(new byte[headerExtension]);
        foreach (var (a, b, c) in rows)
        {
            AddInt16(bytes, 3);
            foreach (var value in new[] { a, b, c })
            {
                if (value is null)
                {
                    AddInt32(bytes, -1);
                }
                else
                {
                    AddInt32(bytes, value.Length);
                    bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(value));
                }
            }
        }

        AddInt16(bytes, -1);
        return bytes.ToArray();
    }

    private static void AddInt32(List<byte> bytes, int value)
    {
        var buffer = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, value);
        bytes.AddRange(buffer);
    }

    private static void AddInt16(List<byte> bytes, short value)
    {
        var buffer = new byte[2];
        BinaryPrimitives.WriteInt16BigEndian(buffer, value);
        bytes.AddRange(buffer);
    }
}
