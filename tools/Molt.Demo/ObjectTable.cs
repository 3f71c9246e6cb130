using System.Management.Automation;
using System.Text;

namespace Molt.Demo;

/// <summary>
/// Prints pipeline output as a plain table: a hosted runspace has no Format-Table, and the demo should show what
/// a user would see.
/// </summary>
internal static class ObjectTable
{
    public static string Render(IReadOnlyList<PSObject> objects, params string[] columns)
    {
        if (objects.Count == 0)
        {
            return "(no output)" + Environment.NewLine;
        }

        var rows = objects.Select(o => columns.Select(c => Convert.ToString(o.Properties[c]?.Value) ?? string.Empty).ToArray()).ToList();
        var widths = columns.Select((c, i) => Math.Min(60, Math.Max(c.Length, rows.Max(r => r[i].Length)))).ToArray();
        var text = new StringBuilder();
        text.AppendLine(string.Join("  ", columns.Select((c, i) => c.PadRight(widths[i]))));
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((v, i) => (v.Length > widths[i] ? v[..(widths[i] - 1)] + "…" : v).PadRight(widths[i]))));
        }

        return text.ToString();
    }
}
