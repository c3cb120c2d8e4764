using System.Globalization;
using InitPrune.Inference;

namespace InitPrune.Reporting;

/// <summary>
/// The latency section of a report made with <c>report --latency</c>: the line saying how it was measured, one table
/// per group (mean sparse and dense forward-pass time over the cell's measured runs, speed-up dense ÷ sparse), the
/// runs not measured with the reason, and the runs whose sparse predictions differ from the dense ones.
/// </summary>
internal sealed record LatencySection(string Line, IReadOnlyList<ReportTable> Tables, IReadOnlyList<string> NotMeasured, IReadOnlyList<string> Disagreements);

/// <summary>
/// Measured latency in sweep reports (<c>report --latency</c>, <see cref="RunLatencyBench"/>): per group a table and a
/// plot of the metric against each cell's mean sparse forward-pass time (log x axis), beside the effective-FLOPs ones.
/// </summary>
internal static class LatencyReport
{
    /// <summary>The measured runs by id.</summary>
    static Dictionary<string, RunLatency> Measured(RunLatencies l) =>
        l.Runs.Where(r => r.Measured).GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.First());

    /// <summary>Mean sparse and dense seconds over a cell's measured runs, or null when none is measured.</summary>
    static (double Sparse, double Dense, int N)? Cell(CellStats cell, Dictionary<string, RunLatency> measured)
    {
        var runs = cell.Runs.Where(r => measured.ContainsKey(r.Id)).Select(r => measured[r.Id]).ToList();
        return runs.Count == 0 ? null : (runs.Average(r => r.SparseSeconds!.Value), runs.Average(r => r.DenseSeconds!.Value), runs.Count);
    }

    /// <summary>Seconds as µs below 10 ms (one decimal below 100 µs), else as ms with one decimal.</summary>
    internal static string Time(double seconds) => seconds >= 0.01
        ? (seconds * 1e3).ToString("0.#", CultureInfo.InvariantCulture) + " ms"
        : (seconds * 1e6).ToString(seconds >= 1e-4 ? "0" : "0.#", CultureInfo.InvariantCulture) + " µs";

    public static LatencySection Section(SweepAnalysis a, RunLatencies l)
    {
        var measured = Measured(l);
        var tables = new List<ReportTable>();
        foreach (var g in a.Groups)
        {
            var cells = g.Rows.Select(r => g.Columns.Select(c => Cell(g.Cell(r, c), measured)).ToList()).ToList();
            if (cells.All(row => row.All(v => v is null))) continue;
            var suffix = g.Fixed.Count > 0 ? $" — {g.Describe()}" : "";
            tables.Add(new ReportTable($"Measured latency per forward pass, batch {l.Batch}, {l.Threads} thread{(l.Threads == 1 ? "" : "s")}: sparse / dense (mean over the cell's runs), speed-up dense ÷ sparse{suffix}",
                [.. g.Columns.Select(c => SweepAnalysis.Display(a.Layout.Columns, c))],
                [.. g.Rows.Select((r, i) => new ReportRow(r, [.. cells[i].Select(v => v is { } t
                    ? new ReportCell(t.Sparse * 1e6, null, t.N, $"{Time(t.Sparse)} / {Time(t.Dense)}, {(t.Dense / t.Sparse).ToString("0.00", CultureInfo.InvariantCulture)}×")
                    : ReportCell.Empty)]))]));
        }
        var notMeasured = l.Runs.Where(r => !r.Measured).Select(r => $"{r.Id} ({r.Model}): {r.NotMeasured}").ToList();
        var disagreements = l.Runs.Where(r => r.Measured && (r.PredictionsAgreeing != r.Samples || r.MaxLogitDiff > 1e-3))
            .Select(r => $"{r.Id} ({r.Model}): {r.PredictionsAgreeing} of {r.Samples} predictions agree, largest relative logit difference {r.MaxLogitDiff?.ToString("G3", CultureInfo.InvariantCulture)}")
            .ToList();
        return new LatencySection(l.Describe(), tables, notMeasured, disagreements);
    }

    /// <summary>Per group, the metric against each cell's mean sparse forward-pass time (log x axis), with the measurement line under each plot.</summary>
    public static IEnumerable<ReportImage> Plots(SweepAnalysis a, RunLatencies l, string outDir)
    {
        var measured = Measured(l);
        if (measured.Count == 0) return [];
        return FlopsReport.AgainstLogX(a, cell => Cell(cell, measured)?.Sparse * 1e6, v => Time(v / 1e6), "measured sparse latency",
            $"sparse forward pass, batch {l.Batch} (log scale)", "sparse_latency", l.Describe(), outDir);
    }
}
