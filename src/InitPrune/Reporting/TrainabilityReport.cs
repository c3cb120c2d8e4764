using System.Globalization;
using InitPrune.Engine;
using InitPrune.Training;

namespace InitPrune.Reporting;

/// <summary>
/// One cell of the trainability view: ‖J‖ at step 0 (geometric mean over the cell's runs), the final test accuracy (%) and
/// the epochs to converge (means over the runs).
/// </summary>
internal sealed record TrainabilityPoint(string Row, string Column, double JacobianNorm, double Accuracy, double EpochsToConverge, int Runs);

/// <summary>
/// Seed 002 Figs. 16–17: test accuracy and epochs to converge against the Jacobian norm at initialization, for sweeps whose
/// runs trained and recorded ‖J‖ at step 0 (train.jacobian_every &gt; 0). One table and two plots per group.
/// </summary>
internal static class TrainabilityReport
{
    /// <summary>A run has converged at the first epoch whose accuracy reaches this fraction of its best epoch's.</summary>
    public const double ConvergedFraction = 0.95;

    /// <summary>
    /// The first epoch (1-based, as recorded) whose accuracy — validation when recorded, else test — reaches
    /// <see cref="ConvergedFraction"/> of the best epoch's; null without an epoch that has an accuracy.
    /// </summary>
    public static int? EpochsToConverge(IReadOnlyList<EpochMetrics> epochs)
    {
        var scored = epochs.Select(e => (e.Epoch, Acc: e.ValidationAccuracy ?? e.TestAccuracy)).Where(e => e.Acc is not null).OrderBy(e => e.Epoch).ToList();
        if (scored.Count == 0) return null;
        double best = scored.Max(e => e.Acc!.Value);
        return scored.First(e => e.Acc!.Value >= ConvergedFraction * best).Epoch;
    }

    /// <summary>The view's points of one group, row by row in column order: cells with at least one trained run that recorded ‖J‖ at step 0.</summary>
    public static List<TrainabilityPoint> Points(SweepAnalysis a, ReportGroup g)
    {
        var points = new List<TrainabilityPoint>();
        foreach (var row in g.Rows)
        {
            foreach (var column in g.Columns)
            {
                var runs = g.Cell(row, column).Runs
                    .Select(r => (Norm: r.JacobianSeries.FirstOrDefault(p => p.Step == 0)?.Norm, Acc: r.Result?.TestAccuracy, Epochs: EpochsToConverge(r.Epochs)))
                    .Where(x => x.Norm is > 0 && x.Acc is not null && x.Epochs is not null).ToList();
                if (runs.Count == 0) continue;
                points.Add(new TrainabilityPoint(row, SweepAnalysis.Display(a.Layout.Columns, column), Math.Exp(runs.Average(x => Math.Log(x.Norm!.Value))),
                    100 * runs.Average(x => x.Acc!.Value), runs.Average(x => x.Epochs!.Value), runs.Count));
            }
        }
        return points;
    }

    /// <summary>One table per group that has points: ‖J‖ at init, test accuracy and epochs to converge per (row, column).</summary>
    public static IEnumerable<ReportTable> Tables(SweepAnalysis a)
    {
        if (a.Metric.Name == ReportMetric.JacobianNorm) yield break;
        foreach (var g in a.Groups)
        {
            var points = Points(a, g);
            if (points.Count == 0) continue;
            var suffix = g.Fixed.Count > 0 ? $" — {g.Describe()}" : "";
            var column = a.Layout.Columns[(a.Layout.Columns.LastIndexOf('.') + 1)..];
            yield return new ReportTable(
                $"Trainability against ‖J‖ at initialization (seed 002 Figs. 16–17): epochs to converge = first epoch reaching {ConvergedFraction:P0} of the run's best validation (else test) accuracy{suffix}",
                ["‖J‖ at init (geometric mean)", "test accuracy (%)", "epochs to converge", "runs"],
                [.. points.Select(p => new ReportRow($"{p.Row}, {column} {p.Column}",
                [
                    new ReportCell(p.JacobianNorm, null, p.Runs, p.JacobianNorm.ToString("G4", CultureInfo.InvariantCulture)),
                    new ReportCell(p.Accuracy, null, p.Runs, p.Accuracy.ToString("F2", CultureInfo.InvariantCulture)),
                    new ReportCell(p.EpochsToConverge, null, p.Runs, p.EpochsToConverge.ToString("0.#", CultureInfo.InvariantCulture)),
                    new ReportCell(p.Runs, null, p.Runs, p.Runs.ToString(CultureInfo.InvariantCulture)),
                ]))]);
        }
    }

    /// <summary>Test accuracy and epochs to converge against log10 ‖J‖ at init, one line per row (points in order of ‖J‖), per group.</summary>
    public static IEnumerable<ReportImage> Plots(SweepAnalysis a, string outDir)
    {
        if (a.Metric.Name == ReportMetric.JacobianNorm) yield break;
        foreach (var g in a.Groups)
        {
            var points = Points(a, g);
            if (points.Count == 0) continue;
            var rows = points.GroupBy(p => p.Row).Select(r => r.OrderBy(p => p.JacobianNorm).ToList()).ToList();
            var fixedText = g.Fixed.Count > 0 ? $" ({g.Describe()})" : "";
            var suffix = ReportPlots.Suffix(g.Fixed);
            foreach (var (what, y, file) in new (string, Func<TrainabilityPoint, double>, string)[]
            {
                ("Test accuracy (%)", p => p.Accuracy, "trainability_accuracy_vs_jacobian"),
                ("Epochs to converge", p => p.EpochsToConverge, "trainability_epochs_vs_jacobian"),
            })
            {
                var title = $"{what} vs ‖J‖ at init{fixedText}";
                var stem = FileNames.Safe(file + suffix, 160);
                var svg = Path.Combine(outDir, stem + ".svg");
                InitPrune.Reporting.Plots.Lines(svg, title, "log10 ‖J‖ at initialization", what,
                    [.. rows.Select(r => new Series(r[0].Row, [.. r.Select(p => Math.Log10(p.JacobianNorm))], [.. r.Select(y)]))]);
                yield return new ReportImage(title, Path.Combine(outDir, stem + ".png"), svg,
                    $"epochs to converge: the first epoch whose validation (else test) accuracy reaches {ConvergedFraction:P0} of the run's best epoch");
            }
        }
    }
}
