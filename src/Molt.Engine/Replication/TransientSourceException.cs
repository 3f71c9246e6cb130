namespace Molt.Engine.Replication;

/// <summary>
/// Reading the source's changes failed in a way that reconnecting can cure (the connection dropped, the server restarted):
/// nothing delivered after the last confirmed position is lost, so the loop starts the stream again from its checkpoint.
/// </summary>
internal sealed class TransientSourceException(string message, Exception inner) : Exception(message, inner);
