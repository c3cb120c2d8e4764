using System.Collections.Concurrent;
using System.Globalization;
using InitPrune.Experiments.Sweeps;
using InitPrune.Theory;
using InitPrune.Theory.Jacobian;

namespace InitPrune.Reporting;

/// <summary>
/// Seed 002 §5 (Figs. 3–4): ‖J_pruned‖ / ‖J_dense‖ at initialization. A pruned run's reference is the dense run of the
/// same sweep whose settings equal its own with the prune section at its default (method none): same seed, hence the
/// same initial weights (pruning only masks and rescales them) and the same probe inputs (drawn from the seed). The
/// ratio is read at report time from the two runs' step-0 ‖J‖; a run without a finished dense reference has none.
/// </summary>
internal static class JacobianRatio
{
    /// <summary>The settings a run's dense reference has, as canonical JSON (its prune section at the default).</summary>
    public static string DenseKey(RunConfig c) => (c with { Prune = new PruneSettings() }).ToJson();

    /// <summary>‖J‖ at step 0 of the run, or null when it recorded none (or 0: a float32 underflow).</summary>
    public static double? StepZero(StoredRun run) => run.Result is not null && run.JacobianSeries.FirstOrDefault(p => p.Step == 0) is { Norm: > 0 and var n } && double.IsFinite(n) ? n : null;

    /// <summary>The step-0 ‖J‖ of every finished dense run among <paramref name="runs"/>, by <see cref="DenseKey"/>.</summary>
    public static IReadOnlyDictionary<string, double> DenseNorms(IEnumerable<StoredRun> runs)
    {
        var norms = new Dictionary<string, double>();
        foreach (var r in runs.Where(r => r.Config.Prune.Method == "none"))
            if (StepZero(r) is { } n) norms.TryAdd(DenseKey(r.Config), n);
        return norms;
    }

    /// <summary>The run's ‖J‖ over its dense reference's (1 for a dense run), or null without both.</summary>
    public static double? Of(StoredRun run, IReadOnlyDictionary<string, double> dense) =>
        StepZero(run) is { } n && dense.TryGetValue(DenseKey(run.Config), out var d) ? n / d : null;

    /// <summary>
    /// Per-layer gain of the hidden span predicted by seed 002 Theorems 5–6 for an n×n ReLU layer pruned at sparsity s:
    /// ρ·√m, m the expected kept share of Σw² (1 − s for random pruning, t_n^{−2} for magnitude pruning) and ρ the
    /// rescaling (1, (1 − s)^{−1/2} or t_n). The ratio over the dense network is then about gain^L, L = depth − 1.
    /// Null for other methods or rescalings.
    /// </summary>
    public static double? LayerGain(string method, string rescale, double sparsity, int width)
    {
        if (method == "none" || sparsity == 0) return 1;
        double? kept = method switch
        {
            "random" => 1 - sparsity,
            "magnitude" => 1 / Square(Tn(width, sparsity)),
            _ => null,
        };
        double? rho = rescale switch
        {
            "none" => 1,
            "random" => RescalingFactors.Random(sparsity),
            "magnitude" => Tn(width, sparsity),
            _ => null,
        };
        return kept is { } m && rho is { } r ? r * Math.Sqrt(m) : null;
    }

    static readonly ConcurrentDictionary<(int, double), double> TnCache = new();

    static double Tn(int width, double sparsity) => TnCache.GetOrAdd((width, sparsity), k => RescalingFactors.MagnitudeExact(k.Item1, k.Item2));

    static double Square(double x) => x * x;

    /// <summary>The per-layer gain common to <paramref name="runs"/> (ReLU MLPs, init normal, hidden span, one method, rescaling, sparsity and width), else null.</summary>
    public static double? CommonGain(IReadOnlyCollection<StoredRun> runs)
    {
        if (runs.Count == 0 || !runs.All(r => r.Config.Model.Name == "mlp" && r.Config.Model.Activation == "relu" && r.Config.Init.Name == "normal"
            && r.Config.Train.JacobianSpan == "hidden" && r.Config.Model.Width is not null)) return null;
        var kinds = runs.Select(r => (r.Config.Prune.Method, r.Config.Prune.Rescale, r.Config.Prune.Sparsity, Width: r.Config.Model.Width!.Value)).Distinct().ToList();
        return kinds.Count == 1 ? LayerGain(kinds[0].Method, kinds[0].Rescale, kinds[0].Sparsity, kinds[0].Width) : null;
    }

    /// <summary>
    /// The theory line over a <c>jacobian_ratio</c> vs <c>model.depth</c> row: ln(gain)·L at the plotted depths (no
    /// fitted constant: the ratio is 1 at L = 0); null where <see cref="CommonGain"/> is.
    /// </summary>
    public static double[]? TheoryLine(SweepAnalysis a, ReportGroup g, string row, int[] points, double[] columnValues)
    {
        if (a.Layout.Columns != "model.depth" || points.Any(j => !(columnValues[j] >= 2))) return null;
        var runs = g.Columns.SelectMany(c => g.Cell(row, c).Runs).Where(r => r.Result is not null).Distinct().ToList();
        if (CommonGain(runs) is not { } gain) return null;
        return [.. points.Select(j => Math.Log(gain) * JacobianTheory.SpanDepth((int)columnValues[j]))];
    }

    /// <summary>
    /// Seed 002 Theorems 5–6: the edges of stability of width <paramref name="width"/>, 1 − s = log(n)^k/n with k = 5
    /// (random pruning) and 4 (magnitude pruning), in both log bases: (name, k, kept share in ln, in log10).
    /// </summary>
    public static IReadOnlyList<(string Method, int Power, double KeptLn, double KeptLog10)> Edges(int width) =>
        [("random (Theorem 5)", 5, Math.Pow(Math.Log(width), 5) / width, Math.Pow(Math.Log10(width), 5) / width),
         ("magnitude (Theorem 6)", 4, Math.Pow(Math.Log(width), 4) / width, Math.Pow(Math.Log10(width), 4) / width)];

    /// <summary>The hidden width shared by every run, or null.</summary>
    public static int? CommonWidth(IEnumerable<StoredRun> runs)
    {
        var widths = runs.Where(r => r.Config.Model.Name == "mlp").Select(r => r.Config.Model.Width).Distinct().ToList();
        return widths.Count == 1 ? widths[0] : null;
    }

    /// <summary>
    /// The report's ratio tables: with <c>metric: jacobian_ratio</c>, the edges of stability at the sweep's width and,
    /// per row and sparsity, the per-layer gain fitted over depth beside the theory; with another metric (e.g. test
    /// accuracy, Figs. 13–14) whose runs recorded ‖J‖ at step 0 beside dense references, the ratio in the same layout.
    /// A sweep that prunes nothing has no ratio to show.
    /// </summary>
    public static IEnumerable<ReportTable> Tables(SweepAnalysis a)
    {
        var dense = DenseNorms(a.Runs);
        if (dense.Count == 0 || !a.Runs.Any(r => r.Config.Prune.Sparsity > 0)) yield break;
        if (a.Metric.Name != ReportMetric.JacobianRatio)
        {
            foreach (var g in a.Groups)
            {
                var rows = g.Rows.Select(row => new ReportRow(row, [.. g.Columns.Select(c => Stats(g.Cell(row, c).Runs, dense))])).ToList();
                if (rows.All(r => r.Cells.All(c => c.N == 0))) continue;
                var suffix = g.Fixed.Count > 0 ? $" — {g.Describe()}" : "";
                yield return new ReportTable($"‖J_pruned‖ / ‖J_dense‖ at initialization (step 0, same seed), mean ± std over seeds{suffix}",
                    [.. g.Columns.Select(c => SweepAnalysis.Display(a.Layout.Columns, c))], rows)
                { NumberFormat = "G3" };
            }
            yield break;
        }
        if (CommonWidth(a.Runs) is { } n && n >= 2)
        {
            var edges = Edges(n).Select(e => new ReportRow(e.Method,
            [
                Text(e.KeptLn, "G4"), EdgeCell(e.KeptLn), Text(e.KeptLog10, "G4"), EdgeCell(e.KeptLog10),
            ])).ToList();
            yield return new ReportTable($"Theory: edges of stability at n = {n} (seed 002 Theorems 5–6: stable while 1 − s ≫ log(n)^k/n)",
                ["log(n)^k/n, natural log", "edge sparsity", "log₁₀(n)^k/n", "edge sparsity (log₁₀)"], edges);
        }
        var gains = GainTable(a);
        if (gains is not null) yield return gains;
    }

    /// <summary>
    /// Per row and sparsity: exp of the least-squares slope of ln(ratio) against L = depth − 1 over the done runs
    /// (the measured per-layer gain) and the theory's ρ·√m; null unless the sweep varies model.depth.
    /// </summary>
    static ReportTable? GainTable(SweepAnalysis a)
    {
        var dense = DenseNorms(a.Runs);
        var entries = a.Runs.SelectMany(r => r.Entries.Where(e => e.Sweep == a.Sweep.Key).Select(e => (Run: r, e.Label))).ToList();
        var sparsities = SweepAnalysis.Order(entries.Select(e => e.Run.Config.Prune.Sparsity.ToString(CultureInfo.InvariantCulture)))
            .Where(s => s != "0").ToList();
        if (sparsities.Count == 0 || entries.Select(e => e.Run.Config.Model.Depth).Distinct().Count() < 2) return null;
        var rows = new List<ReportRow>();
        foreach (var label in entries.Select(e => e.Label).Distinct())
        {
            var cells = new List<ReportCell>();
            foreach (var s in sparsities)
            {
                var runs = entries.Where(e => e.Label == label && e.Run.Config.Prune.Sparsity.ToString(CultureInfo.InvariantCulture) == s)
                    .Select(e => e.Run).Where(r => r.Result is not null && r.Config.Model.Depth is not null).DistinctBy(r => r.Id).ToList();
                var points = runs.Select(r => (X: JacobianTheory.SpanDepth(r.Config.Model.Depth!.Value), R: Of(r, dense)))
                    .Where(p => p.R is > 0).Select(p => (p.X, Y: Math.Log(p.R!.Value))).ToList();
                var slope = JacobianReport.Slope(points);
                var theory = CommonGain(runs);
                cells.Add(slope is null && theory is null ? ReportCell.Empty
                    : new ReportCell(slope is { } m ? Math.Exp(m) : null, null, points.Count,
                        $"{(slope is { } v ? Math.Exp(v).ToString("F3", CultureInfo.InvariantCulture) : "—")} / {(theory is { } t ? t.ToString("F3", CultureInfo.InvariantCulture) : "—")}"));
            }
            rows.Add(new ReportRow(label, cells));
        }
        return new ReportTable("Per-layer gain of ‖J_pruned‖/‖J_dense‖: measured exp(slope of ln ratio against L = depth − 1) / theory ρ·√m (seed 002 Theorems 5–6; 1 = stable)",
            [.. sparsities.Select(s => SweepAnalysis.Display("prune.sparsity", s))], rows);
    }

    static ReportCell Stats(IReadOnlyList<StoredRun> runs, IReadOnlyDictionary<string, double> dense)
    {
        var values = runs.Select(r => Of(r, dense)).OfType<double>().ToArray();
        if (values.Length == 0) return ReportCell.Empty;
        var mean = values.Average();
        double? std = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : null;
        return new ReportCell(mean, std, values.Length);
    }

    static ReportCell EdgeCell(double kept) => kept < 1
        ? new ReportCell(1 - kept, null, 1, (100 * (1 - kept)).ToString("F1", CultureInfo.InvariantCulture) + "%")
        : new ReportCell(null, null, 0, "none: log(n)^k/n ≥ 1, vacuous at this width");

    static ReportCell Text(double v, string format) => new(v, null, 1, v.ToString(format, CultureInfo.InvariantCulture));
}
