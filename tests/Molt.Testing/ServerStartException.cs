namespace Molt.Testing;

/// <summary>A throwaway server did not start; the message ends with the tail of its log.</summary>
public sealed class ServerStartException : Exception
{
    internal ServerStartException(string message, string logTail, bool portInUse)
        : base($"{message}{Environment.NewLine}--- log tail ---{Environment.NewLine}{logTail}")
    {
        PortInUse = portInUse;
    }

    /// <summary>Another process took the port between picking and binding it: worth another attempt.</summary>
    internal bool PortInUse { get; }
}
