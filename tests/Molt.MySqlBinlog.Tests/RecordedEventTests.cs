using Molt.MySqlBinlog.Events;

namespace Molt.MySqlBinlog.Tests;

/// <summary>
/// Events recorded from the MariaDB 10.11 fixture (binlog_row_metadata=FULL, CRC32): the format description, then TABLE_MAP
/// and WRITE_ROWS for the type matrix's maximum row and its zero-date row, decoded with no server.
/// </summary>
public sealed class RecordedEventTests
{
    private static readonly byte[][] Recorded = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Recorded", "mariadb-10.11-type-matrix.hex"))
        .Where(l => l.Length > 0).Select(Convert.FromHexString).ToArray();

    [Fact]
    public void Recorded_mariadb_events_decode_to_the_values_the_type_matrix_wrote()
    {
        var decoder = new EventDecoder(ChecksumAlgorithm.Crc32);

        var events = Recorded.SelectMany(raw => decoder.Decode(raw)).ToList();

        Assert.Contains("MariaDB", Assert.IsType<FormatDescriptionEvent>(events[0]).ServerVersion);
        var rows = events.OfType<RowsEvent>().ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(BinlogEventType.WriteRowsV1, r.Header.Type));
        TypeMatrixTests.AssertRow(TypeMatrixTests.MaxValues, rows[0].Rows.Single().After!);
        TypeMatrixTests.AssertRow(TypeMatrixTests.ZeroValues, rows[1].Rows.Single().After!);
    }

    [Fact]
    public void Any_single_flipped_bit_in_a_recorded_row_event_is_caught_by_its_checksum()
    {
        var rows = Recorded[2];
        for (var i = 0; i < rows.Length; i++)
        {
            var damaged = (byte[])rows.Clone();
            damaged[i] ^= 0x10;
            var decoder = new EventDecoder(ChecksumAlgorithm.Crc32);
            decoder.Decode(Recorded[0]);
            decoder.Decode(Recorded[1]);

            var error = Assert.Throws<BinlogException>(() => decoder.Decode(damaged));

            Assert.Contains(error.ErrorId, new[] { BinlogErrorIds.ChecksumMismatch, BinlogErrorIds.ProtocolViolation });
        }
    }
}
