using System.Globalization;
using System.Text.Json;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Models;
using ScottPlot;

namespace InitPrune.Reporting;

/// <summary>
/// Effective FLOPs per sample of a sweep's runs (<see cref="FlopCount"/>: 2 × the multiply-accumulates of the kept
/// weights), computed at report time from each run's model settings, its dataset's nominal sample shape and the kept
/// weights per layer of its pruning record, so the store needs nothing new. A report of a sweep with a pruned run gets
/// one table per group (mean effective FLOPs per cell) and one plot per group of the metric against effective FLOPs
/// (log x axis, one line per row). Latency is measured only when asked (<see cref="LatencyReport"/>), so reports stay deterministic.
/// </summary>
internal static class FlopsReport
{
    const int MaxPlots = 12;

    /// <summary>The line under each plot: where latency comes from.</summary>
    public const string LatencyNote = "Latency is not part of the report (timings vary from machine to machine): `initprune report … --latency` measures each run's sparse and dense forward pass at report time; `initprune bench --inference` times sparse inference in general.";

    /// <summary>The line under each plot when the report measured latency.</summary>
    public const string MeasuredNote = "Measured latency (--latency) follows: the metric against each cell's sparse forward-pass time.";

    /// <summary>Effective FLOPs per run id (runs whose model cannot be rebuilt, or whose record does not fit it, are left out); empty when no done run is pruned or the metric is a Jacobian norm.</summary>
    public static Dictionary<string, FlopReport> PerRun(SweepAnalysis a)
    {
        var result = new Dictionary<string, FlopReport>();
        if (a.Metric.Name is ReportMetric.JacobianNorm or ReportMetric.JacobianChange or ReportMetric.JacobianRatio) return result;
        var done = a.Runs.Where(r => r.Status == RunStatus.Done).ToList();
        if (!done.Any(r => r.Pruning is { Layers.Count: > 0, ActualSparsity: > 0 })) return result;
        var dense = new Dictionary<string, FlopReport?>();
        foreach (var run in done)
        {
            var key = JsonSerializer.Serialize(new { run.Config.Data.Name, Model = run.Config.Model });
            if (!dense.TryGetValue(key, out var template)) dense[key] = template = Dense(run.Config);
            if (template is null) continue;
            var layers = run.Pruning?.Layers ?? [];
            // A record whose tensor sizes differ from the rebuilt model's (a run on a fallback dataset) is not counted.
            if (layers.Any(l => template.Layers.FirstOrDefault(t => t.Name == l.Name) is { } t && t.Weights != l.Total)) continue;
            result[run.Id] = template.WithKept(layers.GroupBy(l => l.Name).ToDictionary(g => g.Key, g => g.First().Kept));
        }
        return result;
    }

    /// <summary>The dense count of a run's network, or null when its model cannot be built from the stored settings.</summary>
    internal static FlopReport? Dense(RunConfig config)
    {
        try
        {
            var (shape, outputs) = Data.DatasetRegistry.NominalShape(config.Data.Name);
            using var model = ModelRegistry.Create(config.ToModelSpec(), shape, outputs);
            return FlopCount.Count(model, shape);
        }
        catch (Exception e) when (e is InitPruneException or ArgumentException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Mean effective FLOPs of a cell's runs that have a count, or null.</summary>
    static double? CellFlops(CellStats cell, Dictionary<string, FlopReport> flops)
    {
        var values = cell.Runs.Where(r => flops.ContainsKey(r.Id)).Select(r => (double)flops[r.Id].EffectiveFlops).ToList();
        return values.Count == 0 ? null : values.Average();
    }

    /// <summary>One table per group: effective FLOPs per sample, mean over the cell's runs, with the dense count in the title.</summary>
    public static List<ReportTable> Tables(SweepAnalysis a, Dictionary<string, FlopReport> flops)
    {
        var tables = new List<ReportTable>();
        if (flops.Count == 0) return tables;
        foreach (var g in a.Groups)
        {
            var cells = g.Rows.Select(r => g.Columns.Select(c => CellFlops(g.Cell(r, c), flops)).ToList()).ToList();
            if (cells.All(row => row.All(v => v is null))) continue;
            var denseCounts = g.Columns.SelectMany(c => g.Rows.SelectMany(r => g.Cell(r, c).Runs)).Where(r => flops.ContainsKey(r.Id))
                .Select(r => flops[r.Id].DenseFlops).Distinct().ToList();
            var dense = denseCounts.Count == 1 ? $"; dense {denseCounts[0].ToString("N0", CultureInfo.InvariantCulture)}" : "";
            var suffix = g.Fixed.Count > 0 ? $" — {g.Describe()}" : "";
            tables.Add(new ReportTable($"Effective FLOPs per sample (2 × multiply-accumulates of the kept weights{dense}){suffix}",
                [.. g.Columns.Select(c => SweepAnalysis.Display(a.Layout.Columns, c))],
                [.. g.Rows.Select((r, i) => new ReportRow(r, [.. cells[i].Select(v => v is { } f ? new ReportCell(f, null, 1) : ReportCell.Empty)]))])
            { NumberFormat = "N0" });
        }
        return tables;
    }

    /// <summary>Ticks at 1, 2 and 5 × 10^k between the log10 limits, labelled by <paramref name="label"/>.</summary>
    static IEnumerable<Tick> LogTicks(double low, double high, Func<double, string> label)
    {
        for (var k = (int)Math.Floor(low); k <= (int)Math.Ceiling(high); k++)
        {
            foreach (var m in new[] { 1, 2, 5 })
            {
                var v = m * Math.Pow(10, k);
                if (Math.Log10(v) >= low && Math.Log10(v) <= high) yield return new Tick(Math.Log10(v), label(v));
            }
        }
    }

    /// <summary>A value with k, M, G for thousands, millions, billions.</summary>
    static string Compact(double v) => v switch
    {
        >= 1e9 => (v / 1e9).ToString("G3", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (v / 1e6).ToString("G3", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (v / 1e3).ToString("G3", CultureInfo.InvariantCulture) + "k",
        _ => v.ToString("G3", CultureInfo.InvariantCulture),
    };

    /// <summary>Per group, the metric (mean over seeds) against the mean effective FLOPs of each cell, one line per row, log x axis; <paramref name="note"/> under each plot.</summary>
    public static IEnumerable<ReportImage> Plots(SweepAnalysis a, Dictionary<string, FlopReport> flops, string outDir, string note = LatencyNote)
    {
        if (flops.Count == 0) return [];
        return AgainstLogX(a, cell => CellFlops(cell, flops), Compact, "effective FLOPs", "effective FLOPs per sample (log scale)", "effective_flops", note, outDir);
    }

    /// <summary>
    /// Per group (at most 12), the metric (mean over seeds) against <paramref name="x"/> of each cell (cells without a
    /// positive x are left out), one line per row, log x axis ticked at 1, 2, 5 × 10^k; <paramref name="note"/> under each plot.
    /// </summary>
    internal static IEnumerable<ReportImage> AgainstLogX(SweepAnalysis a, Func<CellStats, double?> x, Func<double, string> tickLabel, string what, string xLabel,
        string stem, string note, string outDir)
    {
        var metric = a.Metric.Name == "test_accuracy" ? "accuracy" : a.Metric.Name;
        foreach (var g in a.Groups.Take(MaxPlots))
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            var all = new List<double>();
            for (var i = 0; i < g.Rows.Count; i++)
            {
                var points = g.Columns.Select(c => (X: x(g.Cell(g.Rows[i], c)), Y: g.Cell(g.Rows[i], c).Mean))
                    .Where(p => p.X is > 0 && p.Y is not null).Select(p => (X: Math.Log10(p.X!.Value), Y: p.Y!.Value)).OrderBy(p => p.X).ToList();
                if (points.Count == 0) continue;
                all.AddRange(points.Select(p => p.X));
                var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(), palette.GetColor(i));
                line.LegendText = g.Rows[i];
                line.LineWidth = 2;
                line.MarkerSize = 7;
            }
            if (all.Count == 0) continue;
            var (low, high) = (all.Min(), all.Max());
            var margin = 0.1 * Math.Max(high - low, 0.5);
            plot.Axes.SetLimitsX(low - margin, high + margin);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. LogTicks(low - margin, high + margin, tickLabel)]);
            var title = $"{a.Metric.Title} vs {what}{(g.Fixed.Count > 0 ? $" ({g.Describe()})" : "")}";
            plot.Title(title);
            plot.XLabel(xLabel);
            plot.YLabel(a.Metric.Title);
            plot.ShowLegend(Edge.Right);
            var image = ReportPlots.Save(plot, outDir, $"{ReportPlots.Slug(metric)}_vs_{stem}{ReportPlots.Suffix(g.Fixed)}", title, 800, 500);
            yield return image with { Note = note };
        }
    }
}
