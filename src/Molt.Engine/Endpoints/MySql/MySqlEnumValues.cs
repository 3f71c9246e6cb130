using System.Text;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>Parses the members of an ENUM or SET column type as information_schema spells it: enum('a','it''s').</summary>
internal static class MySqlEnumValues
{
    public static IReadOnlyList<string> Parse(string columnType)
    {
        var values = new List<string>();
        var open = columnType.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return values;
        }

        var current = new StringBuilder();
        var quoted = false;
        for (var i = open + 1; i < columnType.Length; i++)
        {
            var c = columnType[i];
            if (!quoted)
            {
                if (c == '\'')
                {
                    quoted = true;
                    current.Clear();
                }
                else if (c == ')')
                {
                    break;
                }

                continue;
            }

            if (c == '\'' && i + 1 < columnType.Length && columnType[i + 1] == '\'')
            {
                current.Append('\'');
                i++;
            }
            else if (c == '\'')
            {
                quoted = false;
                values.Add(current.ToString());
            }
            else if (c == '\\' && i + 1 < columnType.Length)
            {
                current.Append(columnType[++i]);
            }
            else
            {
                current.Append(c);
            }
        }

        return values;
    }
}
