using Molt.Engine.Endpoints;
using Molt.Engine.Checks;
using Molt.Engine.Logging;
using Serilog;

namespace Molt.Engine.Sessions;

/// <summary>Connects to an endpoint and checks the prerequisites of a migration flow against it.</summary>
public sealed class ConnectionTester(MoltLogSession log)
{
    private readonly ILogger logger = log.Logger.ForContext<ConnectionTester>();

    /// <param name="fetchId">For failback on a target: the migration whose failback is checked (its cutover and what it left there).</param>
    public async Task<ConnectionReport> TestAsync(EndpointAddress address, EndpointRole role, MigrationFlow flow, CancellationToken cancellationToken,
        string? fetchId = null)
    {
        logger.Information("Connecting to the {Role} {Endpoint} to check {Flow} prerequisites", role, address.Display, flow);
        var report = await DatabaseRegistry.CheckPrerequisitesAsync(address, role, flow, cancellationToken).ConfigureAwait(false);
        if (flow == MigrationFlow.Failback && role == EndpointRole.Target && fetchId is not null)
        {
            report = await FailbackReadiness.AddAsync(address, report, fetchId, cancellationToken).ConfigureAwait(false);
        }

        foreach (var check in report.Checks)
        {
            logger.Debug("{Role} check {Check}: {Outcome} ({Detail})", role, check.Check, check.Passed ? "passed" : "failed", check.Detail);
        }

        logger.Information("{Role} is {Product} {Version}; {Failed} of {Total} checks failed", role, report.Server.Kind.DisplayName(),
            report.Server.Version, report.Checks.Count(c => !c.Passed), report.Checks.Count);
        return report;
    }
}
