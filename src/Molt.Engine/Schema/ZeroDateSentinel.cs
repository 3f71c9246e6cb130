namespace Molt.Engine.Schema;

/// <summary>The value a zero date loads as under <see cref="ZeroDateHandling.Sentinel"/>: the first day PostgreSQL and .NET share.</summary>
internal static class ZeroDateSentinel
{
    public static readonly DateTime Value = new(1, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
}
