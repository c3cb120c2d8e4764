using System.Globalization;
using InitPrune.Experiments.Sweeps;

namespace InitPrune.Reporting;

/// <summary>
/// The table a recipe's report ends with: each claim of the seed (<c>report.claims</c>), the seed's figure, ours from
/// the sweep's done runs, the test, and whether they agree. A claim no done run matches yet is "not measured".
/// </summary>
internal static class ReportClaims
{
    /// <summary>One claim's outcome: our figure as text and the verdict.</summary>
    public sealed record Outcome(string Figure, string Verdict, double? Value);

    public static ReportTable? Table(SweepAnalysis a)
    {
        if (a.Layout.Claims is not { Count: > 0 } claims) return null;
        return new ReportTable("Claims of the seed against this sweep", ["seed's figure", "ours", "test", "verdict"],
            [.. claims.Select(c =>
            {
                var o = Evaluate(a, c);
                return new ReportRow(c.Claim, [Text(c.Paper ?? "—"), Text(o.Figure), Text(c.Expect), Text(o.Verdict)]);
            })])
        { RowHeader = "claim", TextCells = true, AtEnd = true };
    }

    public static Outcome Evaluate(SweepAnalysis a, ReportClaim c)
    {
        var metric = ReportMetric.Parse(c.Metric ?? a.Layout.Metric).WithRuns(a.Runs);
        if (c.Slope is { } over) return Slope(metric, a.Matching(c.Where, over), c, over);
        var (mean, std, n) = Stats(metric, a.Matching(c.Where));
        if (n == 0) return new("—", "not measured: no finished run matches", null);
        if (c.Than is not { } than) return Judge(c, mean, $"{Num(mean)}{(n > 1 ? $" ± {Num(std)}" : "")} (n = {n})");
        var (other, _, m) = Stats(metric, a.Matching(than));
        if (m == 0) return new("—", "not measured: no finished run matches 'than'", null);
        bool ratio = c.Compare == "ratio";
        if (ratio && other == 0) return new($"{Num(mean)} / 0", "not measured: the 'than' mean is 0", null);
        var value = ratio ? mean / other : mean - other;
        return Judge(c, value, $"{Num(mean)} {(ratio ? "/" : "−")} {Num(other)} = {Num(value)} (n = {n}, {m})");
    }

    static Outcome Judge(ReportClaim c, double value, string figure) =>
        new(figure, c.Passes(value) ? "agree" : "disagree", value);

    /// <summary>Least-squares slope of the metric (or its log) against the numeric field over the matched runs.</summary>
    static Outcome Slope(ReportMetric metric, List<(StoredRun Run, string Field)> runs, ReportClaim c, string over)
    {
        var points = runs.Select(r => (X: SweepAnalysis.TryNumber(r.Field, out var x) ? x : double.NaN, Y: metric.Of(r.Run)))
            .Where(p => double.IsFinite(p.X) && p.Y is { } y && (!c.Log || y > 0))
            .Select(p => (p.X, Y: c.Log ? Math.Log(p.Y!.Value) : p.Y!.Value)).ToList();
        if (points.Select(p => p.X).Distinct().Count() < 2)
            return new("—", $"not measured: fewer than two values of {over} among the finished runs", null);
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        var slope = points.Sum(p => (p.X - mx) * (p.Y - my)) / points.Sum(p => (p.X - mx) * (p.X - mx));
        return Judge(c, slope, $"slope of {(c.Log ? "ln " : "")}{metric.Name} per unit of {over}: {Num(slope)} (n = {points.Count})");
    }

    static (double Mean, double Std, int N) Stats(ReportMetric metric, List<(StoredRun Run, string Field)> runs)
    {
        var values = runs.Select(r => metric.Of(r.Run)).OfType<double>().ToArray();
        if (values.Length == 0) return (double.NaN, double.NaN, 0);
        var mean = values.Average();
        var std = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
        return (mean, std, values.Length);
    }

    static ReportCell Text(string text) => new(null, null, 0, text);

    static string Num(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
