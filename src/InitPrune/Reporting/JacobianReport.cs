using System.Globalization;
using InitPrune.Experiments.Sweeps;
using InitPrune.Theory.Jacobian;

namespace InitPrune.Reporting;

/// <summary>
/// The report's Jacobian figures (seed 002): the theory of Theorem 1 for ‖J‖ at initialization against depth, the
/// least-squares slope of ln‖J‖ against L per report row, and the per-step series of runs that tracked ‖J‖ in training.
/// </summary>
internal static class JacobianReport
{
    /// <summary>
    /// σw² when Theorem 1 applies to every one of <paramref name="runs"/> alike (dense ReLU MLPs, init normal, σ_b = 0,
    /// one σ_w, the hidden span); null otherwise.
    /// </summary>
    public static double? TheorySigmaW2(IReadOnlyCollection<StoredRun> runs)
    {
        if (runs.Count == 0) return null;
        bool applies = runs.All(r => r.Config.Model.Name == "mlp" && r.Config.Model.Activation == "relu" && r.Config.Init.Name == "normal"
            && r.Config.Init.SigmaB == 0 && r.Config.Prune.Method == "none" && r.Config.Train.JacobianSpan == "hidden");
        var sigmas = runs.Select(r => r.Config.Init.SigmaW).Distinct().ToList();
        return applies && sigmas.Count == 1 ? sigmas[0] * sigmas[0] : null;
    }

    /// <summary>ln‖J‖ at step 0 against L of each finished run that recorded one: (L, ln‖J‖) pairs.</summary>
    public static List<(int L, double LogNorm)> DepthPoints(IEnumerable<StoredRun> runs) =>
        [.. runs.Where(r => r.Result is not null && r.Config.Model.Depth is not null)
            .Select(r => (r, p: r.JacobianSeries.FirstOrDefault(p => p.Step == 0)))
            .Where(x => x.p is { Norm: > 0 })
            .Select(x => (JacobianTheory.SpanDepth(x.r.Config.Model.Depth!.Value), Math.Log(x.p!.Norm)))];

    /// <summary>The least-squares slope of y on x, or null with fewer than two distinct x.</summary>
    public static double? Slope(IReadOnlyList<(int X, double Y)> points)
    {
        if (points.Select(p => p.X).Distinct().Count() < 2) return null;
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        return points.Sum(p => (p.X - mx) * (p.Y - my)) / points.Sum(p => (p.X - mx) * (p.X - mx));
    }

    /// <summary>
    /// The constant c of <see cref="JacobianTheory.LogNorm"/> fitted to the points (the mean residual), so the theory curve can be
    /// drawn over the measurements: its shape is the prediction, its height is not.
    /// </summary>
    public static double Intercept(IReadOnlyList<(int L, double LogNorm)> points, double sigmaW2) =>
        points.Average(p => p.LogNorm - JacobianTheory.LogNorm(p.L, sigmaW2));

    /// <summary>
    /// One table per group when the report shows <c>jacobian_norm</c> and its runs span two depths or more: per row, the
    /// fitted slope of ln‖J‖ against L beside ½ ln(σw²/2) and the paper's printed ln(σw²/2).
    /// </summary>
    public static IEnumerable<ReportTable> SlopeTables(SweepAnalysis a)
    {
        if (a.Metric.Name != ReportMetric.JacobianNorm) yield break;
        foreach (var g in a.Groups)
        {
            var rows = new List<ReportRow>();
            foreach (var row in g.Rows)
            {
                var runs = g.Columns.SelectMany(c => g.Cell(row, c).Runs).Distinct().ToList();
                var points = DepthPoints(runs);
                if (Slope(points) is not { } slope) continue;
                var sigmaW2 = TheorySigmaW2(runs);
                rows.Add(new ReportRow(row,
                [
                    Text(slope), sigmaW2 is { } s ? Text(JacobianTheory.LogSlope(s)) : new ReportCell(null, null, 0, "—"),
                    sigmaW2 is { } t ? Text(Math.Log(t / 2)) : new ReportCell(null, null, 0, "—"), new ReportCell(points.Count, null, points.Count, points.Count.ToString(CultureInfo.InvariantCulture)),
                ]));
            }
            if (rows.Count == 0) continue;
            var suffix = g.Fixed.Count > 0 ? $" — {g.Describe()}" : "";
            yield return new ReportTable($"Slope of ln‖J‖ against L = depth − 1 (least squares over runs) and theory (seed 002 Theorem 1){suffix}",
                ["fitted slope", "theory ½ ln(σw²/2)", "as printed ln(σw²/2)", "runs"], rows);
        }
    }

    static ReportCell Text(double v) => new(v, null, 1, v.ToString("F4", CultureInfo.InvariantCulture));
}
