using InitPrune.Engine;
using ScottPlot;

namespace InitPrune.Reporting;

/// <summary>One line of a plot: points (<paramref name="X"/>, <paramref name="Y"/>) and optional ± error bars.</summary>
public sealed record Series(string Label, double[] X, double[] Y, double[]? YError = null);

/// <summary>Line charts saved as image files.</summary>
public static class Plots
{
    static readonly MarkerShape[] Markers =
    [
        MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond,
        MarkerShape.FilledTriangleDown, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.OpenTriangleUp,
    ];

    /// <summary>
    /// Draws each series as a line with markers (and error bars where given), with a title, axis labels and a legend.
    /// Writes a PNG at <paramref name="path"/> with its extension set to <c>.png</c>; when <paramref name="path"/>
    /// ends with <c>.svg</c> it also writes an SVG there. Creates the folder; each file is written atomically.
    /// </summary>
    /// <param name="xTickLabels">
    /// When given, X is categorical: the distinct X values of all series, in ascending order, are placed at evenly
    /// spaced positions labelled by these strings (one per distinct value). Use it for values that bunch up, such as
    /// sparsities 0, 0.5, 0.9, 0.98.
    /// </param>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        int width = 800, int height = 500, IReadOnlyList<string>? xTickLabels = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        foreach (var s in series)
        {
            if (s.X.Length != s.Y.Length || (s.YError is { } e && e.Length != s.Y.Length))
                throw new ArgumentException($"series '{s.Label}' has {s.X.Length} X, {s.Y.Length} Y and {s.YError?.Length} error values; they must match", nameof(series));
        }

        var plot = new Plot();
        var position = CategoricalPositions(series, xTickLabels);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var xs = position is null ? s.X : s.X.Select(x => (double)position[x]).ToArray();
            var color = palette.GetColor(i);
            if (s.YError is { } errors)
            {
                var bars = plot.Add.ErrorBar(xs, s.Y, errors);
                bars.Color = color;
            }
            var line = plot.Add.Scatter(xs, s.Y, color);
            line.LegendText = s.Label;
            line.LineWidth = 2;
            line.MarkerSize = 8;
            line.MarkerShape = Markers[i % Markers.Length];
        }

        if (position is not null)
        {
            var ticks = position.OrderBy(kv => kv.Value).Select(kv => new Tick(kv.Value, xTickLabels![kv.Value])).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
            plot.Axes.SetLimitsX(-0.5, Math.Max(ticks.Length - 0.5, 0.5));
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (series.Count > 0)
            plot.ShowLegend(Edge.Right);

        var full = Path.GetFullPath(path);
        Artifacts.WriteAllBytesAtomic(Path.ChangeExtension(full, ".png"), plot.GetImageBytes(width, height, ImageFormat.Png));
        if (full.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
            Artifacts.WriteAllTextAtomic(full, plot.GetSvgXml(width, height));
    }

    /// <summary>Maps each distinct X value to its rank, or null when X is numeric.</summary>
    static Dictionary<double, int>? CategoricalPositions(IReadOnlyList<Series> series, IReadOnlyList<string>? labels)
    {
        if (labels is null)
            return null;
        var distinct = series.SelectMany(s => s.X).Distinct().Order().ToArray();
        if (distinct.Length != labels.Count)
            throw new ArgumentException($"{labels.Count} X tick labels were given for {distinct.Length} distinct X values; give one per value", "xTickLabels");
        return distinct.Select((x, i) => (x, i)).ToDictionary(p => p.x, p => p.i);
    }
}
