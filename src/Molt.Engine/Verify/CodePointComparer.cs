using System.Text;

namespace Molt.Engine.Verify;

/// <summary>
/// Orders strings by Unicode code point, which is the byte order of their UTF-8 form: the order of PostgreSQL's "C"
/// collation and of MySQL's binary comparison. (string.CompareOrdinal orders UTF-16 units, which puts characters
/// beyond U+FFFF before U+E000..U+FFFF.)
/// </summary>
internal sealed class CodePointComparer : IComparer<string>
{
    public static CodePointComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        var left = x.EnumerateRunes().GetEnumerator();
        var right = y.EnumerateRunes().GetEnumerator();
        while (true)
        {
            var hasLeft = left.MoveNext();
            var hasRight = right.MoveNext();
            if (!hasLeft || !hasRight)
            {
                return hasLeft ? 1 : hasRight ? -1 : 0;
            }

            var order = left.Current.Value.CompareTo(right.Current.Value);
            if (order != 0)
            {
                return order;
            }
        }
    }
}
