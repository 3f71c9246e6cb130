namespace Molt.Testing;

/// <summary>Runs a start-up step once per process for all callers, and again only if it failed.</summary>
internal sealed class Once<T>(Func<Task<T>> factory)
{
    private readonly Lock gate = new();
    private Task<T>? task;

    public Task<T> GetAsync(CancellationToken ct)
    {
        lock (gate)
        {
            if (task is null || task.IsFaulted || task.IsCanceled)
            {
                // Not tied to one caller's token: other callers share the result.
                task = Task.Run(factory, CancellationToken.None);
            }

            return task.WaitAsync(ct);
        }
    }
}
