using Molt.Engine.Load;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// The target column check as CockroachDB answers it: its information_schema says is_generated YES/NO (not ALWAYS/NEVER)
/// and is_identity always NO. PostgreSQL's answers are covered live by the load tests with -TableHandling None.
/// </summary>
public sealed class CockroachTargetSchemaCheckTests
{
    [Fact]
    public void ANotNullColumnWithoutDefaultIsRequiredInCockroachDbsSpellingOfIsGeneratedToo() =>
        Assert.Contains("is_generated IN ('NEVER', 'NO')", TargetSchemaCheck.ColumnsSql);

    [Fact]
    public void AnIdentityColumnIsKnownByItsStartValueAsCockroachDbSaysIsIdentityNo() =>
        Assert.Contains("identity_start IS NULL", TargetSchemaCheck.ColumnsSql);
}
