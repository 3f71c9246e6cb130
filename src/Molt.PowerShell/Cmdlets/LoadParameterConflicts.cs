using Molt.Engine;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// Load parameters that cannot work together, refused from the parameters alone before any connection is opened (as
/// PowerShell's own utility cmdlets check theirs in BeginProcessing). The engine checks them again once it knows a
/// resumed run's recorded handling and the endpoints; the error ids are the engine's, so scripts see one id either way.
/// </summary>
internal static class LoadParameterConflicts
{
    /// <summary>
    /// Refuses -Cascade and -DeferPrimaryKey with a table handling that cannot take them: the one given, or None when
    /// none is given to a new run (a resumed run's handling is its record's, known only to the engine).
    /// </summary>
    public static void Check(MoltLoadCmdlet cmdlet, bool handlingGiven, bool resuming)
    {
        if (!handlingGiven && resuming)
        {
            return;
        }

        if (cmdlet.DeferPrimaryKey && cmdlet.TableHandling != TableHandling.DropAndRecreate)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "DeferPrimaryKeyNeedsRecreate",
                "-DeferPrimaryKey changes how tables are created, and only -TableHandling DropAndRecreate creates them.",
                "Add -TableHandling DropAndRecreate, or leave -DeferPrimaryKey out.");
        }

        if (cmdlet.Cascade && cmdlet.TableHandling == TableHandling.None)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "CascadeNeedsTableHandling",
                "-Cascade says what emptying or dropping the target tables may also remove, and -TableHandling None does neither.",
                "Add -TableHandling TruncateIfExists or DropAndRecreate, or leave -Cascade out.");
        }
    }

    /// <summary>-Resume continues a recorded run: its id comes from -FetchId or a piped run, so this is checked per input object.</summary>
    public static void CheckResume(bool resume, string? fetchId)
    {
        if (resume && fetchId is null)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "ResumeNeedsFetchId", "-Resume continues an earlier run and needs its -FetchId.",
                "Get-MoltFetchStatus lists the runs recorded in the target, with their ids.");
        }
    }
}
