using System.Management.Automation;
using Molt.Engine.Endpoints;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// A cmdlet that reads or changes what a run recorded in the target's _molt schema, from any session: the target, its
/// credential and the run's id (all three taken by property name from a piped run).
/// </summary>
public abstract class MoltTargetCmdlet : MoltCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = string.Empty;

    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>Virtual so that a cmdlet that works on one run only (Stop-MoltReplication) can make it mandatory.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FetchIdCompleter))]
    public virtual string? FetchId { get; set; }

    protected EndpointAddress TargetAddress() => EndpointParameter.Address(Target, TargetCredential, EndpointRole.Target);
}
