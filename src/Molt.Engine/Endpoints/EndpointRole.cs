namespace Molt.Engine.Endpoints;

/// <summary>Which side of a migration an endpoint is on.</summary>
public enum EndpointRole
{
    Source,
    Target,
}

public static class EndpointRoleExtensions
{
    /// <summary>"source" or "target", as errors name the side that failed.</summary>
    public static string Label(this EndpointRole role) => role == EndpointRole.Source ? "source" : "target";

    /// <summary>The cmdlet parameter that carries this side's password.</summary>
    public static string CredentialParameter(this EndpointRole role) => role == EndpointRole.Source ? "-SourceCredential" : "-TargetCredential";
}
