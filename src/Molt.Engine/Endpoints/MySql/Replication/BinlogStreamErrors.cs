using System.Net.Sockets;
using Molt.Engine.Replication;
using Molt.MySqlBinlog;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>
/// Classifies what reading the binlog can fail with: a lost or silent connection, or a server going away, is
/// <see cref="TransientSourceException"/> (start again from the checkpoint); a purged start position, a refused login or
/// an event the client cannot read is a <see cref="MoltException"/> naming it and what to do.
/// </summary>
internal static class BinlogStreamErrors
{
    // ER_SERVER_SHUTDOWN, ER_NORMAL_SHUTDOWN, ER_CON_COUNT_ERROR, ER_QUERY_INTERRUPTED, ER_CONNECTION_KILLED.
    private static readonly int[] TransientServerErrors = [1053, 1077, 1040, 1317, 1927];

    /// <summary>The exception to throw instead of <paramref name="exception"/>, or null to let it pass as it is.</summary>
    public static Exception? Translate(Exception exception, string source, CancellationToken cancellationToken) => exception switch
    {
        MoltException or TransientSourceException => null,
        OperationCanceledException when cancellationToken.IsCancellationRequested => null,
        BinlogException { ErrorId: BinlogErrorIds.PositionPurged } purged => new MoltException(MoltErrorKind.InvalidState, "BinlogPositionPurged",
            $"{MessageOf(purged)} Changes since the checkpoint cannot be read from {source}.",
            $"{purged.Remedy} Remove the replication (Remove-MoltReplication) and start it again (Start-MoltReplication), with a binlog retention longer than the replication may be stopped.",
            purged) { Target = source },
        BinlogException { ErrorId: BinlogErrorIds.ConnectionLost or BinlogErrorIds.ConnectionTimedOut or BinlogErrorIds.StreamEnded } lost =>
            new TransientSourceException($"The binlog stream from {source} was lost: {lost.Message}", lost),
        BinlogServerException server when TransientServerErrors.Contains(server.ServerErrorCode) =>
            new TransientSourceException($"The source {source} stopped the binlog stream: {server.ServerMessage}", server),
        BinlogException { ErrorId: BinlogErrorIds.AuthenticationFailed or BinlogErrorIds.UnsupportedAuthentication or BinlogErrorIds.TlsUnavailable } login =>
            new MoltException(MoltErrorKind.AuthenticationFailed, login.ErrorId, $"The binlog connection to {source} was refused: {MessageOf(login)}",
                login.Remedy ?? "Check the source credential, and that the user has REPLICATION SLAVE and REPLICATION CLIENT (MySQL: REPLICATION REPLICA).", login)
            { Target = source },
        BinlogException other => new MoltException(MoltErrorKind.InvalidState, other.ErrorId, $"Reading the binlog of {source} failed: {MessageOf(other)}",
            other.Remedy, other) { Target = source },
        IOException or SocketException or TimeoutException or EndOfStreamException =>
            new TransientSourceException($"The binlog connection to {source} was lost: {exception.Message}", exception),
        _ => null,
    };

    /// <summary>The library's message without its remedy, which the MoltException carries on its own.</summary>
    private static string MessageOf(BinlogException exception) =>
        exception.Remedy is { } remedy && exception.Message.EndsWith(" " + remedy, StringComparison.Ordinal)
            ? exception.Message[..^(remedy.Length + 1)]
            : exception.Message;
}
