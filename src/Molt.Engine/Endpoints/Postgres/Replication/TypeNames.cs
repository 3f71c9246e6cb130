using Npgsql;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// Type names as the catalog reader spells them (format_type of type and modifier), looked up on an ordinary connection
/// the first time a Relation names a type.
/// </summary>
internal sealed class TypeNames(NpgsqlConnection connection)
{
    private readonly Dictionary<(uint, int), string> names = [];

    public async Task<IReadOnlyList<string>> NamesAsync(IReadOnlyList<(uint Oid, int Modifier)> types, CancellationToken cancellationToken)
    {
        var unknown = types.Where(t => !names.ContainsKey(t)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            await using var command = new NpgsqlCommand("SELECT format_type(t.oid, t.modifier) FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY t(oid, modifier, n) ORDER BY t.n", connection)
            {
                Parameters =
                {
                    new NpgsqlParameter { Value = unknown.Select(t => t.Oid).ToArray(), DataTypeName = "oid[]" },
                    new NpgsqlParameter { Value = unknown.Select(t => t.Modifier).ToArray() },
                },
            };
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var i = 0;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names[unknown[i++]] = reader.GetString(0);
            }
        }

        return types.Select(t => names[t]).ToList();
    }
}
