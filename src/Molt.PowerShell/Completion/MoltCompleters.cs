using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Molt.Engine.Endpoints;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;

namespace Molt.PowerShell.Completion;

/// <summary>
/// Tab completion that asks the database named on the same command line: -Schema and -Table from the source's
/// catalog, -FetchId from the runs recorded in the target. It needs the address (and credential) typed before it;
/// whatever fails, or takes longer than a few seconds, completes nothing rather than an error.
/// </summary>
public abstract class DatabaseCompleter : IArgumentCompleter
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        try
        {
            using var patience = new CancellationTokenSource(Patience);
            var candidates = Task.Run(() => CandidatesAsync(fakeBoundParameters, patience.Token)).GetAwaiter().GetResult();
            var pattern = new WildcardPattern(prefix + "*", WildcardOptions.IgnoreCase);
            return candidates.Distinct(StringComparer.Ordinal).Where(pattern.IsMatch).Order(StringComparer.OrdinalIgnoreCase)
                .Select(c => new CompletionResult(Quoted(c), c, CompletionResultType.ParameterValue, c)).ToList();
        }
        catch (Exception)
        {
            // Completion is a convenience: a wrong address, a missing credential or a slow server offer nothing.
            return [];
        }
    }

    protected abstract Task<IEnumerable<string>> CandidatesAsync(IDictionary bound, CancellationToken cancellationToken);

    /// <summary>The address bound to <paramref name="addressParameter"/>, with the credential bound beside it.</summary>
    protected static EndpointAddress? Address(IDictionary bound, string addressParameter, string credentialParameter)
    {
        if (!bound.Contains(addressParameter) || LanguagePrimitives.ConvertTo<string>(bound[addressParameter]) is not { Length: > 0 } text)
        {
            return null;
        }

        var credential = bound.Contains(credentialParameter) && PSObject.AsPSObject(bound[credentialParameter]).BaseObject is PSCredential given
            ? given.GetNetworkCredential()
            : null;
        return EndpointAddress.Parse(text, credential);
    }

    private static string Quoted(string value) =>
        value.All(c => char.IsLetterOrDigit(c) || c is '_' or '.' or '-') ? value : $"'{CodeGeneration.EscapeSingleQuotedStringContent(value)}'";
}

/// <summary>-Table and -ExcludeTable: the source's table names.</summary>
public sealed class SourceTableCompleter : DatabaseCompleter
{
    protected override async Task<IEnumerable<string>> CandidatesAsync(IDictionary bound, CancellationToken cancellationToken) =>
        Address(bound, "Source", "SourceCredential") is { } source
            ? (await SourceTableListing.ListAsync(source, cancellationToken).ConfigureAwait(false)).Select(t => t.Name)
            : [];
}

/// <summary>-Schema: the source's schemas (a MySQL/MariaDB database is its schema).</summary>
public sealed class SourceSchemaCompleter : DatabaseCompleter
{
    protected override async Task<IEnumerable<string>> CandidatesAsync(IDictionary bound, CancellationToken cancellationToken) =>
        Address(bound, "Source", "SourceCredential") is { } source
            ? (await SourceTableListing.ListAsync(source, cancellationToken).ConfigureAwait(false)).Select(t => t.Schema)
            : [];
}

/// <summary>-FetchId: the runs recorded in the target's _molt schema.</summary>
public sealed class FetchIdCompleter : DatabaseCompleter
{
    protected override async Task<IEnumerable<string>> CandidatesAsync(IDictionary bound, CancellationToken cancellationToken) =>
        Address(bound, "Target", "TargetCredential") is { } target
            ? (await FetchStatusSession.ReadAsync(target, null, cancellationToken).ConfigureAwait(false)).Select(r => r.Run.FetchId)
            : [];
}
