using System.Globalization;
using InitPrune.Experiments.Sweeps;
using InitPrune.Theory.Jacobian;
using ScottPlot;

namespace InitPrune.Reporting;

/// <summary>
/// Seed 002 Figs. 3–4 against sparsity: per report row, ‖J_pruned‖/‖J_dense‖ (mean over seeds, log scale) against the
/// sparsity (x = −log₁₀(1 − s), labelled with s), one line per depth, the theory gain^L dashed beside each, and the
/// edges of stability of Theorems 5–6 at the sweep's width drawn as vertical lines labelled theory.
/// </summary>
internal static class JacobianRatioPlots
{
    const int MaxPlots = 12;

    public static IEnumerable<ReportImage> VersusSparsity(SweepAnalysis a, string outDir)
    {
        if (a.Metric.Name != ReportMetric.JacobianRatio) yield break;
        var dense = JacobianRatio.DenseNorms(a.Runs);
        var entries = a.Runs.Where(r => r.Result is not null)
            .SelectMany(r => r.Entries.Where(e => e.Sweep == a.Sweep.Key).Select(e => (Run: r, e.Label))).ToList();
        if (entries.Select(e => e.Run.Config.Prune.Sparsity).Distinct().Count() < 2) yield break;
        var width = JacobianRatio.CommonWidth(a.Runs);
        var count = 0;
        foreach (var label in entries.Select(e => e.Label).Distinct())
        {
            if (count++ >= MaxPlots) yield break;
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            var mine = entries.Where(e => e.Label == label).Select(e => e.Run).DistinctBy(r => r.Id).ToList();
            var depths = mine.Select(r => r.Config.Model.Depth).Distinct().Order().ToList();
            var sparsities = mine.Select(r => r.Config.Prune.Sparsity).Distinct().Order().ToList();
            bool theoryLabelled = false;
            for (var i = 0; i < depths.Count; i++)
            {
                var color = palette.GetColor(i);
                var atDepth = mine.Where(r => r.Config.Model.Depth == depths[i]).ToList();
                var points = sparsities.Select(s => (S: s, Values: atDepth.Where(r => r.Config.Prune.Sparsity == s).Select(r => JacobianRatio.Of(r, dense)).OfType<double>().ToList()))
                    .Where(p => p.Values.Count > 0).ToList();
                if (points.Count == 0) continue;
                var line = plot.Add.Scatter(points.Select(p => X(p.S)).ToArray(), points.Select(p => Math.Log10(p.Values.Average())).ToArray(), color);
                line.LegendText = $"depth {depths[i]}";
                line.LineWidth = 2;
                line.MarkerSize = 7;
                var theory = sparsities.Select(s => (S: s, Gain: JacobianRatio.CommonGain(atDepth.Where(r => r.Config.Prune.Sparsity == s).ToList())))
                    .Where(t => t.Gain is > 0 && depths[i] is >= 2).ToList();
                if (theory.Count < 2) continue;
                var curve = plot.Add.Scatter(theory.Select(t => X(t.S)).ToArray(),
                    theory.Select(t => JacobianTheory.SpanDepth(depths[i]!.Value) * Math.Log10(t.Gain!.Value)).ToArray(), color);
                curve.LinePattern = LinePattern.Dashed;
                curve.LineWidth = 1.5f;
                curve.MarkerSize = 0;
                if (!theoryLabelled) curve.LegendText = "theory (ρ·√m)^L, dashed";
                theoryLabelled = true;
            }
            var edgeText = "";
            if (width is { } n && n >= 2)
            {
                foreach (var (method, k, keptLn, keptLog10) in JacobianRatio.Edges(n))
                {
                    foreach (var (kept, log) in new[] { (keptLn, "log"), (keptLog10, "log₁₀") })
                    {
                        if (!(kept < 1)) continue;
                        var edge = plot.Add.VerticalLine(X(1 - kept), 1.5f, k == 5 ? Colors.Black : Colors.Gray, LinePattern.Dotted);
                        edge.LegendText = $"theory: edge, {method}: 1 − s = {log}(n)^{k}/n, s = {Percent(1 - kept)}";
                    }
                }
                var remark = plot.Add.VerticalLine(X(1 - Math.Log10(n) / n), 1, Colors.Brown, LinePattern.DenselyDashed);
                remark.LegendText = $"seed 002 §5 remark: 1 − s ~ log₁₀(n)/n, s = {Percent(1 - Math.Log10(n) / n)}";
                if (JacobianRatio.Edges(n).Any(e => e.KeptLn >= 1)) edgeText = $"(theory: natural-log edges vacuous at n = {n})";
            }
            var ticks = sparsities.Select(s => new Tick(X(s), SweepAnalysis.Display("prune.sparsity", s.ToString(CultureInfo.InvariantCulture)))).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
            };
            var title = $"‖J_pruned‖/‖J_dense‖ vs sparsity: {label}";
            plot.Title(edgeText.Length > 0 ? $"{title}\n{edgeText}" : title);
            plot.XLabel("sparsity s (axis: −log₁₀(1 − s))");
            plot.YLabel("‖J_pruned‖ / ‖J_dense‖ (log scale)");
            plot.ShowLegend(Edge.Right);
            yield return ReportPlots.Save(plot, outDir, $"jacobian_ratio_vs_sparsity_{ReportPlots.Slug(label)}", title, 1000, 500);
        }
    }

    static double X(double sparsity) => -Math.Log10(1 - sparsity);

    static string Percent(double s) => (100 * s).ToString("0.#", CultureInfo.InvariantCulture) + "%";
}
