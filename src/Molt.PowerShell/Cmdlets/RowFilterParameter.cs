using System.Collections;
using System.Management.Automation;
using Molt.Engine;

namespace Molt.PowerShell.Cmdlets;

/// <summary>A -Where hashtable (@{ 'public.rental' = "rental_date >= '2022-01-01'" }) as the engine takes it.</summary>
internal static class RowFilterParameter
{
    public static Dictionary<string, string> ToDictionary(Hashtable? where)
    {
        var filters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in where ?? new Hashtable())
        {
            var table = LanguagePrimitives.ConvertTo<string>(entry.Key);
            var predicate = LanguagePrimitives.ConvertTo<string>(entry.Value);
            if (string.IsNullOrWhiteSpace(table) || string.IsNullOrWhiteSpace(predicate))
            {
                throw new MoltException(MoltErrorKind.InvalidArgument, "InvalidRowFilter", "Every -Where entry needs a table name and a predicate.",
                    "Write -Where @{ 'public.rental' = 'rental_date >= ''2022-01-01''' }.");
            }

            filters[table] = predicate;
        }

        return filters;
    }
}
