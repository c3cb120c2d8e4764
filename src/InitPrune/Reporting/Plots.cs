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

    /// <summary>A scatter plot: each series as unconnected points (small, half transparent), with a title, axis labels and a legend; a PNG as <see cref="Lines"/>.</summary>
    public static void Points(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series, int width = 640, int height = 560)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.X.Length != s.Y.Length)
                throw new ArgumentException($"series '{s.Label}' has {s.X.Length} X and {s.Y.Length} Y values; they must match", nameof(series));
            var points = plot.Add.Scatter(s.X, s.Y, palette.GetColor(i).WithAlpha(0.5));
            points.LineWidth = 0;
            points.MarkerSize = 4;
            points.LegendText = s.Label;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (series.Count > 1)
            plot.ShowLegend(Edge.Right);
        Artifacts.WriteAllBytesAtomic(Path.ChangeExtension(Path.GetFullPath(path), ".png"), plot.GetImageBytes(width, height, ImageFormat.Png));
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

/// <summary>What <c>prune</c> draws: weights kept per layer (bar chart) and the per-unit kept histogram, and the data behind each.</summary>
public static class PrunePlots
{
    public const int Width = 800;
    public const int Height = 500;
    public const int Bins = 20;

    /// <summary>Each tensor's name and percentage of weights kept, in the layer table's order.</summary>
    public static (string[] Names, double[] KeptPercent) LayerKept(IReadOnlyList<Pruning.LayerReport> layers) =>
        ([.. layers.Select(l => l.Name)], [.. layers.Select(l => 100 * l.KeptFraction)]);

    /// <summary>
    /// How many output units (of all weight tensors; of the biases when there are no weight tensors) keep each
    /// fraction of their weights: <see cref="Bins"/> equal bins over [0, 1] (bin k holds [k/B, (k+1)/B), the last also 1).
    /// </summary>
    public static (double[] BinStarts, long[] Counts) UnitKept(IReadOnlyDictionary<string, double[]> unitKeptFractions)
    {
        var weights = unitKeptFractions.Where(kv => !kv.Key.EndsWith("bias", StringComparison.Ordinal)).ToList();
        if (weights.Count == 0) weights = [.. unitKeptFractions];
        var counts = new long[Bins];
        foreach (var f in weights.SelectMany(kv => kv.Value)) counts[Math.Clamp((int)Math.Floor(f * Bins), 0, Bins - 1)]++;
        return ([.. Enumerable.Range(0, Bins).Select(k => (double)k / Bins)], counts);
    }

    /// <summary>Writes <c>kept_per_layer.png</c> and <c>kept_per_unit.png</c> to <paramref name="outDir"/>; returns their keys and file names.</summary>
    public static Dictionary<string, string> Write(IReadOnlyList<Pruning.LayerReport> layers, IReadOnlyDictionary<string, double[]> unitKeptFractions, string outDir, string title)
    {
        var files = new Dictionary<string, string>();
        var (names, kept) = LayerKept(layers);
        var plot = new Plot();
        plot.Add.Bars(kept);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. names.Select((n, i) => new Tick(i, n))]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = names.Length > 4 ? 45 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = names.Length > 4 ? Alignment.MiddleLeft : Alignment.UpperCenter;
        plot.Axes.SetLimits(-0.5, Math.Max(names.Length - 0.5, 0.5), 0, 105);
        plot.Title($"Weights kept per layer: {title}");
        plot.YLabel("weights kept (%)");
        Artifacts.WriteAllBytesAtomic(Path.Combine(outDir, "kept_per_layer.png"), plot.GetImageBytes(Width, Height, ImageFormat.Png));
        files["kept_per_layer"] = "kept_per_layer.png";
        if (unitKeptFractions.Count == 0) return files;
        var (starts, counts) = UnitKept(unitKeptFractions);
        var histogram = new Plot();
        var bars = histogram.Add.Bars(starts.Select(s => s + 0.5 / Bins).ToArray(), counts.Select(c => (double)c).ToArray());
        foreach (var bar in bars.Bars) bar.Size = 1.0 / Bins;
        histogram.Axes.SetLimits(0, 1, 0, Math.Max(1, counts.Max()) * 1.05);
        histogram.Title($"Weights kept per unit: {title}");
        histogram.XLabel("fraction of the unit's weights kept");
        histogram.YLabel("units");
        Artifacts.WriteAllBytesAtomic(Path.Combine(outDir, "kept_per_unit.png"), histogram.GetImageBytes(Width, Height, ImageFormat.Png));
        files["kept_per_unit"] = "kept_per_unit.png";
        return files;
    }
}
