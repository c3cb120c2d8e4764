using System.Globalization;
using System.Text;
using InitPrune.Experiments.Sweeps;

namespace InitPrune.Reporting;

/// <summary>
/// Paper-style reports of a sweep from the results store: seed 001's tables (rows × sparsities, "mean ± std" over
/// seeds), the lr grid's choices, plots (accuracy vs sparsity, depth × sparsity heat maps, weights kept per layer
/// and per neuron) and one self-contained HTML page. Only done runs count; the others are counted in the header.
/// </summary>
public static class SweepReport
{
    /// <summary>Builds the tables and writes <c>report.md</c>, <c>report.csv</c>, <c>report.html</c>, <c>report.json</c> (the tables) and the PNG and SVG plots to <paramref name="outDir"/>.</summary>
    public static (IReadOnlyList<ReportTable> Tables, ReportFiles Files) Write(SweepInfo sweep, IReadOnlyList<StoredRun> runs, string outDir)
    {
        // A grid of one value (e.g. a smoke scale with a fixed learning rate) selects nothing: report it plainly.
        if (sweep.Layout.SelectOver is { } over && runs.SelectMany(r => r.Entries.Where(e => e.Sweep == sweep.Key))
                .Select(e => e.Coordinates.GetValueOrDefault(over)).Distinct().Count() <= 1)
            sweep = sweep with { Layout = sweep.Layout with { SelectOver = null } };
        var analysis = SweepAnalysis.Build(sweep, runs);
        var tables = Tables(analysis);
        Directory.CreateDirectory(outDir);
        var figures = ReportPlots.WriteAll(analysis, outDir);
        var header = ReportHeader.Of(analysis);

        var csv = Path.Combine(outDir, "report.csv");
        File.WriteAllText(csv, Csv(analysis));
        var md = Path.Combine(outDir, "report.md");
        File.WriteAllText(md, Markdown(analysis, header, tables, figures));
        var html = Path.Combine(outDir, "report.html");
        File.WriteAllText(html, HtmlReport.Render(analysis, header, tables, figures, outDir));

        var images = figures.Images.SelectMany(i => new[] { i.Png, i.Svg }).ToList();
        var files = new ReportFiles(md, csv, html, images);
        Engine.Artifacts.WriteJson(Path.Combine(outDir, "report.json"), new { sweep = sweep.Key, tables, files });
        return (tables, files);
    }

    /// <summary>One table of the metric per group of extra-axis values, each followed by the chosen grid values when the layout has a grid.</summary>
    internal static List<ReportTable> Tables(SweepAnalysis a)
    {
        var tables = new List<ReportTable>();
        var layout = a.Layout;
        foreach (var g in a.Groups)
        {
            var suffix = g.Fixed.Count > 0 ? $" — {g.Describe()}" : "";
            var columns = g.Columns.Select(c => SweepAnalysis.Display(layout.Columns, c)).ToList();
            var grid = layout.SelectOver is { } over ? $" at the {over} with the best mean {layout.SelectBy}" : "";
            tables.Add(new ReportTable($"{a.Metric.Title}, mean ± std over seeds{grid}{suffix}", columns,
                [.. g.Rows.Select((r, i) => new ReportRow(r, [.. Enumerable.Range(0, g.Columns.Count).Select(j => Cell(g.Cells[i, j]))]))])
            { NumberFormat = a.Metric.NumberFormat });
            if (layout.SelectOver is { } selected)
            {
                tables.Add(new ReportTable($"Chosen {selected} (best mean {layout.SelectBy}){suffix}", columns,
                    [.. g.Rows.Select((r, i) => new ReportRow(r, [.. Enumerable.Range(0, g.Columns.Count).Select(j => Chosen(g.Cells[i, j]))]))]));
            }
        }
        return tables;
    }

    static ReportCell Cell(CellStats s) => s.N == 0 ? ReportCell.Empty : new ReportCell(s.Mean, s.Std, s.N);

    static ReportCell Chosen(CellStats s) => s.Chosen is { } c
        ? new ReportCell(SweepAnalysis.TryNumber(c, out var v) ? v : null, null, s.Runs.Count, c)
        : ReportCell.Empty;

    /// <summary>Tidy CSV: one line per cell with its row, column, extra axes, chosen grid value, mean, std and n.</summary>
    internal static string Csv(SweepAnalysis a)
    {
        var layout = a.Layout;
        var header = new List<string> { "row", "column" };
        header.AddRange(a.ExtraAxes);
        if (layout.SelectOver is { } over) header.Add(over);
        header.AddRange(["mean", "std", "n"]);
        var sb = new StringBuilder().AppendLine(string.Join(",", header.Select(CsvField)));
        foreach (var g in a.Groups)
        {
            for (var i = 0; i < g.Rows.Count; i++)
            {
                for (var j = 0; j < g.Columns.Count; j++)
                {
                    var s = g.Cells[i, j];
                    var fields = new List<string> { g.Rows[i], g.Columns[j] };
                    fields.AddRange(g.Fixed.Select(kv => kv.Value));
                    if (layout.SelectOver is not null) fields.Add(s.Chosen ?? "");
                    fields.AddRange([Number(s.Mean), Number(s.Std), s.N.ToString(CultureInfo.InvariantCulture)]);
                    sb.AppendLine(string.Join(",", fields.Select(CsvField)));
                }
            }
        }
        return sb.ToString();
    }

    static string Number(double? v) => v?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    static string CsvField(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    static string Markdown(SweepAnalysis a, ReportHeader h, List<ReportTable> tables, ReportFigures figures)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# {a.Sweep.Key}").AppendLine();
        if (a.Sweep.Description.Length > 0) sb.AppendLine(a.Sweep.Description).AppendLine();
        if (a.Sweep.Reproduces.Length > 0) sb.AppendLine($"**Reproduces:** {a.Sweep.Reproduces}").AppendLine();
        sb.AppendLine($"**Runs:** {h.Counts}").AppendLine();
        foreach (var note in a.Sweep.Notes) sb.AppendLine($"> Note: {note}").AppendLine();
        if (h.Environments.Count > 0)
        {
            sb.AppendLine("**Environment of the runs:**").AppendLine();
            foreach (var e in h.Environments) sb.AppendLine($"- {e}");
            sb.AppendLine();
        }
        if (h.Failures.Count > 0)
        {
            sb.AppendLine("**Failed runs:**").AppendLine();
            foreach (var f in h.Failures) sb.AppendLine($"- {f}");
            sb.AppendLine();
        }
        foreach (var t in tables)
        {
            sb.AppendLine($"## {t.Title}").AppendLine();
            sb.AppendLine($"| {Md(a.Layout.Rows)} | {string.Join(" | ", t.Columns.Select(Md))} |");
            sb.AppendLine($"|---|{string.Concat(t.Columns.Select(_ => "---:|"))}");
            foreach (var r in t.Rows)
                sb.AppendLine($"| {Md(r.Label)} | {string.Join(" | ", r.Cells.Select(c => Md(c.Format(t.NumberFormat))))} |");
            sb.AppendLine();
        }
        foreach (var img in figures.Images)
            sb.AppendLine($"## {img.Title}").AppendLine().AppendLine($"![{Md(img.Title)}]({Path.GetFileName(img.Png)})").AppendLine();
        if (figures.LayerNames.Count > 0)
        {
            sb.AppendLine("## Layers of the per-layer plots").AppendLine().AppendLine("| index | tensor |").AppendLine("|---:|---|");
            for (var i = 0; i < figures.LayerNames.Count; i++) sb.AppendLine($"| {i} | {Md(figures.LayerNames[i])} |");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    static string Md(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);
}

/// <summary>What the report says about its runs: counts by status, the environments they ran in, the failures.</summary>
internal sealed record ReportHeader(string Counts, IReadOnlyList<string> Environments, IReadOnlyList<string> Failures)
{
    const int MaxFailures = 20;

    public static ReportHeader Of(SweepAnalysis a)
    {
        var runs = a.Runs;
        int Count(RunStatus s) => runs.Count(r => r.Status == s);
        var counts = $"{Count(RunStatus.Done)} of {runs.Count} runs done ({Count(RunStatus.Pending)} pending, {Count(RunStatus.Running)} running, {Count(RunStatus.Failed)} failed)";
        var environments = runs.Where(r => r.Status == RunStatus.Done && r.Result is not null)
            .GroupBy(r => Describe(r.Result!.Environment))
            .Select(g => $"{g.Key}: {g.Count()} run{(g.Count() == 1 ? "" : "s")}")
            .ToList();
        var failed = runs.Where(r => r.Status == RunStatus.Failed).ToList();
        var failures = failed.Take(MaxFailures).Select(r => $"{r.Id}: {r.Error ?? "no reason recorded"}").ToList();
        if (failed.Count > MaxFailures) failures.Add($"… and {failed.Count - MaxFailures} more");
        return new ReportHeader(counts, environments, failures);
    }

    static string Describe(EnvironmentInfo e) =>
        $"InitPrune {e.InitPruneVersion}{(e.Commit.Length > 0 ? $" ({e.Commit})" : "")}, TorchSharp {e.TorchSharpVersion}, libtorch {e.LibTorchVersion}, " +
        $"{e.Threads} thread{(e.Threads == 1 ? "" : "s")}, {e.Device}, {e.Os}, {e.Dotnet}" +
        (e.OneDnn is { } isa ? $", oneDNN {isa}" : "");
}
