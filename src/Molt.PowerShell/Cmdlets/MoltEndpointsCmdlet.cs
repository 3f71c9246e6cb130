using System.Management.Automation;
using Molt.Engine.Endpoints;

namespace Molt.PowerShell.Cmdlets;

/// <summary>A cmdlet that works on a source and a target: their addresses (taken by property name from piped load objects) and credentials.</summary>
public abstract class MoltEndpointsCmdlet : MoltCmdlet
{
    /// <summary>Taken by property name from piped load objects (a run to resume, a load's results to compare).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = string.Empty;

    /// <summary>Virtual so that a cmdlet whose target is optional (Test-MoltConnection) can say so; the addresses below then read its value.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public virtual string Target { get; set; } = string.Empty;

    [Parameter]
    [Credential]
    public PSCredential? SourceCredential { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>The source as the engine takes it: -Source, or an address piped for it, with -SourceCredential.</summary>
    protected EndpointAddress SourceAddress(string? text = null) =>
        EndpointParameter.Address(text ?? Source, SourceCredential, EndpointRole.Source);

    /// <summary>The target as the engine takes it: -Target, or an address piped for it, with -TargetCredential.</summary>
    protected EndpointAddress TargetAddress(string? text = null) =>
        EndpointParameter.Address(text ?? Target, TargetCredential, EndpointRole.Target);
}
