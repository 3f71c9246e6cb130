using System.Data.Common;
using Npgsql;

namespace Molt.Engine.State;

/// <summary>The few statement helpers the <c>_molt</c> stores share: positional parameters, NULL for null.</summary>
internal static class StateSql
{
    public static async Task ExecuteAsync(NpgsqlDataSource target, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(sql, parameters);
        command.Connection = connection;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public static NpgsqlCommand Command(string sql, params object?[] parameters)
    {
        var command = new NpgsqlCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(Parameter(parameter));
        }

        return command;
    }

    public static NpgsqlBatchCommand BatchCommand(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(Parameter(parameter));
        }

        return command;
    }

    public static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static NpgsqlParameter Parameter(object? value) => new() { Value = value ?? DBNull.Value };
}
