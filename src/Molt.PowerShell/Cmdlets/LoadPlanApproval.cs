using System.Management.Automation;
using System.Management.Automation.Host;
using Molt.Engine;
using Molt.Engine.Load;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// Asks ShouldProcess for the TRUNCATE or DROP over the selected tables (declined: nothing is done), then per table,
/// describing what would run; -WhatIf prints the whole plan and approves nothing.
/// </summary>
internal sealed class LoadPlanApproval(MoltLoadCmdlet cmdlet)
{
    public LoadPlan Approve(LoadPlan plan)
    {
        var whatIf = WhatIfInEffect();
        // A resumed run drops or empties by its recorded table handling, which a bare -Resume does not repeat.
        var handling = plan.Selection.TableHandling;
        var dropping = handling == Engine.Schema.TableHandling.DropAndRecreate;
        if (whatIf && plan.DdlStatements > 0)
        {
            // Only said: the check runs once the plan is approved, so -WhatIf touches no target table, not even with a lock.
            var check = LoadPlanDescription.DdlCheck(plan);
            cmdlet.ShouldProcess(check, check, "Check the plan's DDL");
        }

        if (plan.Reset is { } reset)
        {
            if (!whatIf)
            {
                foreach (var removed in reset.AlsoRemoved)
                {
                    cmdlet.WriteWarning(dropping ? $"-Cascade also drops {removed}: it depends on a selected table and is not recreated." : $"-Cascade also empties {removed}.");
                }

                if (reset.Unlisted is not null)
                {
                    cmdlet.WriteWarning($"-Cascade: {reset.Unlisted}.");
                }
            }

            // Declined, nothing is done; under -WhatIf every table's plan is still printed.
            var verb = dropping ? "Drop" : "Truncate";
            var description = LoadPlanDescription.Of(reset, dropping);
            if (!Confirms(handling, description, $"{description}{Environment.NewLine}{verb} the {plan.Tables.Count} selected target table(s)" +
                    $"{(reset.AlsoRemoved.Count > 0 ? " and what -Cascade takes along" : "")}?", $"{verb} target tables") && !whatIf)
            {
                return plan with { Tables = [] };
            }
        }

        var approved = new List<PlannedTable>();
        foreach (var table in plan.Tables)
        {
            if (table.Warning is not null && !whatIf)
            {
                cmdlet.WriteWarning(table.Warning);
            }

            var description = LoadPlanDescription.Of(plan, table, cmdlet.ShardsPerTable);
            var action = handling switch
            {
                Engine.Schema.TableHandling.DropAndRecreate => "Drop, recreate and load",
                Engine.Schema.TableHandling.TruncateIfExists => "Truncate and load",
                _ => "Load",
            };
            if (Confirms(handling, description, $"{action} target table {table.Plan.Target}?", $"{action} {table.Plan.Target}"))
            {
                approved.Add(table);
            }
        }

        return plan with { Tables = approved };
    }

    /// <summary>
    /// ShouldProcess at this load's impact. The cmdlet is declared High, so a destructive load asks under the default
    /// $ConfirmPreference, which -Force or -Confirm:$false skip; a plain append stays Medium, as it was: it asks only
    /// with -Confirm or a $ConfirmPreference of Medium or lower. A host that cannot ask (pwsh -NonInteractive, a
    /// runspace without a UI) fails with what to add instead of waiting for an answer.
    /// </summary>
    private bool Confirms(Engine.Schema.TableHandling handling, string description, string question, string caption)
    {
        var asked = cmdlet.MyInvocation.BoundParameters.ContainsKey("Confirm") || WhatIfInEffect()
            || (handling == Engine.Schema.TableHandling.None ? ConfirmPreferenceReaches(ConfirmImpact.Medium) : !cmdlet.Force);
        if (!asked)
        {
            return true;
        }

        try
        {
            return cmdlet.ShouldProcess(description, question, caption);
        }
        catch (Exception ex) when (ex is HostException or PSInvalidOperationException)
        {
            throw handling == Engine.Schema.TableHandling.None
                ? new MoltException(MoltErrorKind.InvalidArgument, "ConfirmationRequired",
                    $"The load asks first (-Confirm or $ConfirmPreference), but this session cannot ask: {ex.Message}",
                    "Leave -Confirm out, or add -Confirm:$false, to run it unattended; -WhatIf shows what it would do.", ex)
                : new MoltException(MoltErrorKind.InvalidArgument, "ConfirmationRequired",
                    $"-TableHandling {handling} drops or empties target tables and asks first, but this session cannot ask: {ex.Message}",
                    "Add -Force (or -Confirm:$false) to run it unattended; -WhatIf shows what it would do.", ex);
        }
    }

    private bool WhatIfInEffect() => cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out var bound)
        ? ((SwitchParameter)bound).IsPresent
        : LanguagePrimitives.IsTrue(cmdlet.GetVariableValue("WhatIfPreference"));

    private bool ConfirmPreferenceReaches(ConfirmImpact impact) =>
        cmdlet.GetVariableValue("ConfirmPreference") is ConfirmImpact preference && preference != ConfirmImpact.None && preference <= impact;
}
