using Molt.Engine.Load;
using Molt.Engine.Schema;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>What one zero date of a column becomes under the chosen handling: the rules both the COPY and the CSV paths follow.</summary>
internal static class MySqlZeroDates
{
    /// <summary>
    /// NULL under Null and DropNotNull, where the target column takes it. A NOT NULL column holding zero dates is refused or
    /// made nullable while planning; one written after planning looked is rejected rather than failing the COPY.
    /// </summary>
    public static bool LoadAsNull(TargetColumn column, ZeroDateHandling handling) =>
        handling is ZeroDateHandling.Null or ZeroDateHandling.DropNotNull && column.IsNullable;

    /// <summary>Under Sentinel, true; otherwise the row is rejected, naming the zero date and why.</summary>
    public static bool LoadAsSentinel(MySqlDateTime zero, TargetColumn column, ZeroDateHandling handling, string targetName) => handling switch
    {
        ZeroDateHandling.Sentinel => true,
        ZeroDateHandling.Reject => throw new RowRejectedException(column.Source.Name,
            $"the zero date {Text(zero)} has no {targetName} equivalent (-ZeroDateHandling Reject)"),
        _ => throw new RowRejectedException(column.Source.Name,
            $"the zero date {Text(zero)} would load as NULL, which the NOT NULL target column refuses; it was written after the load was planned " +
            "(-ZeroDateHandling DropNotNull or Sentinel loads it)"),
    };

    private static string Text(MySqlDateTime zero) => $"{zero.Year:D4}-{zero.Month:D2}-{zero.Day:D2}";
}
