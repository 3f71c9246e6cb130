using System.Management.Automation;
using Molt.Engine.Endpoints;

namespace Molt.PowerShell.Cmdlets;

/// <summary>An address parameter (-Source, -Target) and the credential beside it, as the engine takes them.</summary>
internal static class EndpointParameter
{
    public static EndpointAddress Address(string text, PSCredential? credential, EndpointRole role) =>
        EndpointAddress.Parse(text, credential?.GetNetworkCredential(), role);
}
