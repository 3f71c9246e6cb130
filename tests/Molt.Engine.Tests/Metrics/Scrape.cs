using System.Globalization;
using System.Text.RegularExpressions;

namespace Molt.Engine.Tests.Metrics;

/// <summary>One GET of a metrics page, read as Prometheus' text format: samples by name and labels.</summary>
internal sealed partial class Scrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> samples = [];

    private Scrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (SampleLine().Match(line) is { Success: true } sample)
            {
                var labels = LabelPair().Matches(sample.Groups["labels"].Value)
                    .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value);
                samples.Add((sample.Groups["name"].Value, labels, double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture)));
            }
        }
    }

    public string Text { get; }

    public static async Task<Scrape> GetAsync(string address)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return new Scrape(await http.GetStringAsync(new Uri($"http://{address}/metrics")));
    }

    /// <summary>The one sample of <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
    public double Value(string name, params (string Name, string Value)[] labels) =>
        Assert.Single(samples, s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value)).Value;

    public bool Has(string name) => samples.Any(s => s.Name == name);

    /// <summary>Every label name any sample carries.</summary>
    public IReadOnlySet<string> LabelNames => samples.SelectMany(s => s.Labels.Keys).ToHashSet();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>.*)\})? (?<value>\S+)""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
