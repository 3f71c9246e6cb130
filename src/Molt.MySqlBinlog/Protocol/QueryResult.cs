namespace Molt.MySqlBinlog.Protocol;

/// <summary>A text-protocol result set: column names and rows of nullable strings.</summary>
internal sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows)
{
    public static QueryResult Empty { get; } = new([], []);

    public string? Scalar => Rows.Count > 0 && Rows[0].Length > 0 ? Rows[0][0] : null;

    public int ColumnIndex(string name)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new BinlogException(BinlogErrorIds.ProtocolViolation, $"The result has no column '{name}'.");
    }
}
