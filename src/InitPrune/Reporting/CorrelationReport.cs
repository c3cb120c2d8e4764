using System.Globalization;
using InitPrune.Experiments.Sweeps;
using InitPrune.Init;

namespace InitPrune.Reporting;

/// <summary>
/// Seed 002 Theorem 8 (App. F, Fig. 5): for <c>jacobian_norm</c> reports over correlated initializations, ‖J_corr‖ − ‖J_iid‖
/// per cell (each η &gt; 0 run minus the run with the same configuration and seed at η = 0) and the theorem's condition
/// corr = η²/(1 + η²) ≪ n⁻¹ log(n)⁻³ beside the paper's reading η ≪ n^{−1/2} (2⁻⁴ at n = 256).
/// </summary>
internal static class CorrelationReport
{
    /// <summary>The run's i.i.d. twin: the same configuration (seed included) with η = 0, when <paramref name="byId"/> holds it.</summary>
    public static StoredRun? IidTwin(StoredRun run, IReadOnlyDictionary<string, StoredRun> byId) =>
        byId.GetValueOrDefault((run.Config with { Init = run.Config.Init with { Eta = 0 } }).Id);

    /// <summary>‖J‖ at step 0 of a correlated run (η &gt; 0) minus that of its i.i.d. twin; null without both.</summary>
    public static double? Difference(StoredRun run, IReadOnlyDictionary<string, StoredRun> byId)
    {
        if (run.Config.Init is not { Name: "correlated", Eta: > 0 }) return null;
        var corr = Step0(run);
        return corr is { } c && IidTwin(run, byId) is { } twin && Step0(twin) is { } iid ? c - iid : null;
    }

    /// <summary>Theorem 8's bound on the correlation as stated, n⁻¹ ln(n)⁻³.</summary>
    public static double TheoremBound(int width) => 1 / (width * Math.Pow(Math.Log(width), 3));

    /// <summary>
    /// The difference table per group and the theory table, when the report shows jacobian_norm and some run is
    /// correlated with η &gt; 0; rows whose runs are all at η = 0 are left out.
    /// </summary>
    public static IEnumerable<ReportTable> Tables(SweepAnalysis a)
    {
        if (a.Metric.Name != ReportMetric.JacobianNorm || !a.Runs.Any(r => r.Config.Init is { Name: "correlated", Eta: > 0 })) yield break;
        var byId = a.Runs.DistinctBy(r => r.Config.Id).ToDictionary(r => r.Config.Id);
        foreach (var g in a.Groups)
        {
            var rows = new List<ReportRow>();
            foreach (var row in g.Rows)
            {
                var cells = g.Columns.Select(c => Stats([.. g.Cell(row, c).Runs.Select(r => Difference(r, byId)).OfType<double>()])).ToList();
                if (cells.Any(c => c.N > 0)) rows.Add(new ReportRow(row, cells));
            }
            if (rows.Count == 0) continue;
            var suffix = g.Fixed.Count > 0 ? $" — {g.Describe()}" : "";
            yield return new ReportTable($"‖J_corr‖ − ‖J_iid‖ at init (minus the η = 0 run of the same depth and seed), mean ± std over seeds{suffix}",
                [.. g.Columns.Select(c => SweepAnalysis.Display(a.Layout.Columns, c))], rows)
            { NumberFormat = "G4" };
        }
        if (TheoryTable(a) is { } theory) yield return theory;
    }

    /// <summary>Per row (one η and width n over its runs): corr, n·corr (paper's reading) and n ln(n)³·corr (Theorem 8 as stated).</summary>
    static ReportTable? TheoryTable(SweepAnalysis a)
    {
        var rows = new List<ReportRow>();
        foreach (var row in a.Rows)
        {
            var runs = a.Groups.SelectMany(g => g.Columns.SelectMany(c => g.Cell(row, c).Runs)).ToList();
            var etas = runs.Select(r => r.Config.Init.Eta).Distinct().ToList();
            var widths = runs.Select(r => r.Config.Model.Width).Distinct().ToList();
            if (runs.Count == 0 || etas.Count != 1 || widths is not [{ } n] || n < 2) continue;
            double corr = CorrelatedInit.Correlation(etas[0]);
            rows.Add(new ReportRow(row,
            [
                Number(etas[0]), Number(corr), Number(n * corr), Number(corr / TheoremBound(n)),
                new(null, null, 0, Verdict(n * corr)), new(null, null, 0, Verdict(corr / TheoremBound(n))),
            ]));
        }
        return rows.Count == 0 || rows.All(r => r.Cells[0].Mean == 0) ? null
            : new ReportTable("Theory (seed 002 Theorem 8): stability needs corr = η²/(1 + η²) ≪ n⁻¹ ln(n)⁻³; the paper reads it as η ≪ n^(−1/2) (2⁻⁴ at n = 256)",
                ["η", "corr", "n·corr (paper: ≪ 1)", "n ln(n)³·corr (theorem: ≪ 1)", "paper's reading", "as stated"], rows)
            { NumberFormat = "G4" };
    }

    static string Verdict(double ratio) => ratio < 0.1 ? "below (≪ 1)" : ratio < 1 ? "near (< 1)" : "above (≥ 1)";

    static ReportCell Number(double v) => new(v, null, 1, v.ToString("G4", CultureInfo.InvariantCulture));

    static ReportCell Stats(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0) return ReportCell.Empty;
        double mean = xs.Average();
        double? std = xs.Count > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1)) : null;
        return new ReportCell(mean, std, xs.Count);
    }

    static double? Step0(StoredRun run) => run.Status == RunStatus.Done ? run.JacobianSeries.FirstOrDefault(p => p.Step == 0)?.Norm : null;
}
