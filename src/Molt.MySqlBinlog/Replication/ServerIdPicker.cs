using System.Globalization;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Replication;

/// <summary>
/// Picks the server id the client registers with: random in the top half of the 32-bit range, where people rarely number
/// servers, and neither the source's own @@server_id nor that of a replica it lists.
/// </summary>
internal static class ServerIdPicker
{
    private const uint Lowest = 0x8000_0000;

    public static async Task<uint> PickAsync(ProtocolConnection connection, CancellationToken ct)
    {
        var taken = new HashSet<uint>();
        if (uint.TryParse((await connection.QueryAsync("SELECT @@server_id", ct).ConfigureAwait(false)).Scalar, CultureInfo.InvariantCulture, out var own))
        {
            taken.Add(own);
        }

        foreach (var id in await ReplicaServerIdsAsync(connection, ct).ConfigureAwait(false))
        {
            taken.Add(id);
        }

        while (true)
        {
            var candidate = Lowest + (uint)Random.Shared.NextInt64(0, uint.MaxValue - Lowest);
            if (!taken.Contains(candidate))
            {
                return candidate;
            }
        }
    }

    private const int SyntaxError = 1064;

    private static async Task<List<uint>> ReplicaServerIdsAsync(ProtocolConnection connection, CancellationToken ct)
    {
        QueryResult hosts;
        try
        {
            hosts = await ListAsync(connection, "SHOW SLAVE HOSTS", ct).ConfigureAwait(false)
                ?? await ListAsync(connection, "SHOW REPLICAS", ct).ConfigureAwait(false) // MySQL 8.4 dropped the old spelling.
                ?? QueryResult.Empty;
        }
        catch (BinlogServerException)
        {
            // Listing replicas needs a privilege a replication user may lack (MariaDB: REPLICATION MASTER ADMIN); the random
            // id in 2^31 values is then only checked against the source's own.
            return [];
        }

        if (hosts.Rows.Count == 0)
        {
            return [];
        }

        var column = hosts.ColumnIndex("Server_id");
        return hosts.Rows.Select(r => uint.TryParse(r[column], CultureInfo.InvariantCulture, out var id) ? id : 0).Where(id => id != 0).ToList();
    }

    /// <summary>The result, or null when the server does not know the statement's spelling.</summary>
    private static async Task<QueryResult?> ListAsync(ProtocolConnection connection, string sql, CancellationToken ct)
    {
        try
        {
            return await connection.QueryAsync(sql, ct).ConfigureAwait(false);
        }
        catch (BinlogServerException e) when (e.ServerErrorCode == SyntaxError)
        {
            return null;
        }
    }
}
