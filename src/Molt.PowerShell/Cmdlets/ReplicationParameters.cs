using Molt.Engine;

namespace Molt.PowerShell.Cmdlets;

/// <summary>Checks of the replication cmdlets' parameters made before anything connects.</summary>
internal static class ReplicationParameters
{
    public static void CheckInterval(TimeSpan statusInterval)
    {
        if (statusInterval <= TimeSpan.Zero)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "StatusIntervalNotPositive",
                $"-StatusInterval must be longer than zero; it was {statusInterval}.", "Give a TimeSpan such as (New-TimeSpan -Seconds 10), the default.");
        }
    }
}
