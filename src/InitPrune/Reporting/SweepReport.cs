using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Inference;

namespace InitPrune.Reporting;

/// <summary>
/// Paper-style reports of a sweep from the results store: seed 001's tables (rows × sparsities, "mean ± std" over
/// seeds), the lr grid's choices, plots (accuracy vs sparsity, depth × sparsity heat maps, weights kept per layer
/// and per neuron) and one self-contained HTML page. Only done runs count; the others are counted in the header.
/// </summary>
public static class SweepReport
{
    /// <summary>
    /// The reports a request asks for: with a spec, its sweep in the store (<c>--store</c>, default
    /// <c>./initprune-results/store.sqlite</c>); with a store location, every sweep it holds (or only
    /// <see cref="ReportRequest.Sweep"/>). Each report goes to <see cref="ReportRequest.Out"/> (a subfolder per sweep
    /// when there are several), by default to <c>&lt;artifacts&gt;/reports/&lt;sweep&gt;</c>; each result also says how
    /// many of the sweep's done runs have their final weights under the artefact folder. With
    /// <see cref="ReportRequest.Latency"/> each done run's forward passes are timed first (<see cref="RunLatencyBench"/>);
    /// <paramref name="progress"/> hears of each timed run.
    /// </summary>
    public static IReadOnlyList<SweepReportResult> Build(ReportRequest r, Action<RunLatency>? progress = null)
    {
        r.Latency?.Check();
        var location = Location(r);
        var root = Path.GetFullPath(Artifacts.CheckPath(r.ArtifactRoot, "--artifacts"));
        using var store = ResultsStores.Open(location, mustExist: true);
        var sweeps = store.Sweeps();
        var keys = Keys(r, sweeps, location, out var spec);

        var folders = new SweepFolders(root);
        var results = new List<SweepReportResult>();
        foreach (var key in keys)
        {
            var info = sweeps.First(x => x.Key == key);
            // The claims are judged as the spec states them now: editing them needs no new sweep.
            if (spec is not null) info = info with { Layout = info.Layout with { Claims = spec.Layout.Claims } };
            // A store's sweep key becomes a folder name only as a safe file name (a hostile key may hold '/' or '..').
            var folder = SweepSpec.FileName(key);
            var dir = r.Out is { } o ? (keys.Length == 1 ? o : Path.Combine(o, folder)) : Path.Combine(root, "reports", folder);
            Artifacts.PrepareOutput(dir, r.Out is null ? "--artifacts" : "--out");
            var runs = store.Load(key);
            var done = runs.Where(x => x.Status == RunStatus.Done).ToList();
            var latency = r.Latency is { } settings ? RunLatencyBench.Measure(done, root, settings, progress) : null;
            var (tables, files, partial) = Write(info, runs, dir, latency);
            var found = done.Count(x => SweepFolders.IsRunId(x.Id) && File.Exists(folders.FinalWeightsOf(x.Id)));
            results.Add(new SweepReportResult(key, info, tables, files, partial, Path.GetFullPath(dir), new FinalWeights(Path.Combine(root, "runs"), found, done.Count)) { Latency = latency });
        }
        return results;
    }

    /// <summary>The results store a request names: its source when that is a store, else <c>--store</c>, else the default.</summary>
    internal static string Location(ReportRequest r)
    {
        bool isSpec = r.IsSpec;
        if (isSpec && !File.Exists(r.Source))
            throw new InitPruneException($"{r.Source}: no such spec file: check the path (the shipped specs are in configs/)");
        if (r.Source is { } given && !isSpec && r.Store is { } other)
            throw new InitPruneException($"the results store is given twice ({given} and --store {other}): give it either as the argument or with --store");
        return (isSpec ? null : r.Source) ?? r.Store ?? ResultsStores.DefaultIn(Experiments.Sweeps.Sweep.DefaultOut);
    }

    /// <summary>The sweeps a request selects: the spec's, <c>--sweep</c>, or every sweep in the store.</summary>
    internal static string[] Keys(ReportRequest r, IReadOnlyList<SweepInfo> sweeps, string location) => Keys(r, sweeps, location, out _);

    /// <summary>The sweeps a request selects, and the spec it names (null without one).</summary>
    internal static string[] Keys(ReportRequest r, IReadOnlyList<SweepInfo> sweeps, string location, out SweepSpec? spec)
    {
        string[] keys;
        spec = null;
        if (r.IsSpec)
        {
            var loaded = SpecLoader.Load(r.Source!, r.Scale, requireData: false);
            spec = loaded;
            keys = [loaded.Key];
            if (!sweeps.Any(x => x.Key == loaded.Key))
                throw new InitPruneException($"{location} holds no sweep {loaded.Key} (it holds {Known(sweeps)}): run 'initprune sweep {r.Source} --scale {loaded.Scale}' first");
        }
        else if (r.Sweep is { } only)
        {
            if (!sweeps.Any(x => x.Key == only)) throw new InitPruneException($"{location} holds no sweep {only}: use one of {Known(sweeps)}");
            keys = [only];
        }
        else keys = [.. sweeps.Select(x => x.Key)];
        if (keys.Length == 0) throw new InitPruneException($"{location} holds no sweep yet: run 'initprune sweep SPEC' first");
        return keys;
    }

    static string Known(IReadOnlyList<SweepInfo> sweeps) => sweeps.Count == 0 ? "none" : string.Join(", ", sweeps.Select(x => x.Key));

    /// <summary>
    /// Builds the tables and writes <c>report.md</c>, <c>report.csv</c>, <c>report.html</c>, <c>report.json</c> (the
    /// tables) and the PNG and SVG plots to <paramref name="outDir"/>, each file atomically. <c>Progress</c> says how
    /// many runs are finished and missing when the sweep is not finished (null when it is). With
    /// <paramref name="latency"/> (<see cref="RunLatencyBench.Measure"/>) the report adds the measured latency section.
    /// </summary>
    public static (IReadOnlyList<ReportTable> Tables, ReportFiles Files, string? Progress) Write(SweepInfo sweep, IReadOnlyList<StoredRun> runs, string outDir,
        RunLatencies? latency = null)
    {
        // A grid of one value (e.g. a smoke scale with a fixed learning rate) selects nothing: report it plainly.
        if (sweep.Layout.SelectOver is { } over && runs.SelectMany(r => r.Entries.Where(e => e.Sweep == sweep.Key))
                .Select(e => e.Coordinates.GetValueOrDefault(over)).Distinct().Count() <= 1)
            sweep = sweep with { Layout = sweep.Layout with { SelectOver = null } };
        var analysis = SweepAnalysis.Build(sweep, runs);
        var tables = Tables(analysis);
        Directory.CreateDirectory(outDir);
        var figures = ReportPlots.WriteAll(analysis, outDir, latency);
        var header = ReportHeader.Of(analysis);

        var csv = Path.Combine(outDir, "report.csv");
        Artifacts.WriteAllTextAtomic(csv, Csv(analysis));
        var md = Path.Combine(outDir, "report.md");
        Artifacts.WriteAllTextAtomic(md, Markdown(analysis, header, tables, figures));
        var html = Path.Combine(outDir, "report.html");
        Artifacts.WriteAllTextAtomic(html, HtmlReport.Render(analysis, header, tables, figures, outDir));

        var images = figures.Images.SelectMany(i => new[] { i.Png, i.Svg }).ToList();
        var files = new ReportFiles(md, csv, html, images);
        var measured = latency is null ? null : new { measurement = figures.Latency!.Line, tables = figures.Latency.Tables, runs = latency.Runs, latency.Cpu, latency.Cores, latency.Threads, latency.Batch };
        Artifacts.WriteJson(Path.Combine(outDir, "report.json"), new { sweep = sweep.Key, tables, flops = figures.Flops ?? [], latency = measured, files });
        return (tables, files, header.Progress);
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
            { NumberFormat = layout.LogY && !a.Metric.IsPercent ? "G4" : a.Metric.NumberFormat });
            if (layout.SelectOver is { } selected)
            {
                tables.Add(new ReportTable($"Chosen {selected} (best mean {layout.SelectBy}){suffix}", columns,
                    [.. g.Rows.Select((r, i) => new ReportRow(r, [.. Enumerable.Range(0, g.Columns.Count).Select(j => Chosen(g.Cells[i, j]))]))]));
            }
        }
        tables.AddRange(JacobianReport.SlopeTables(a));
        tables.AddRange(CorrelationReport.Tables(a));
        tables.AddRange(TrainabilityReport.Tables(a));
        tables.AddRange(JacobianRatio.Tables(a));
        if (ReportClaims.Table(a) is { } claims) tables.Add(claims);
        return tables;
    }

    static ReportCell Cell(CellStats s) => s.N == 0 ? ReportCell.Empty : new ReportCell(s.Mean, s.Std, s.N);

    static ReportCell Chosen(CellStats s) => s.Chosen is { } c
        ? new ReportCell(SweepAnalysis.TryNumber(c, out var v) ? v : null, null, s.Runs.Count, c)
        : ReportCell.Empty;

    /// <summary>
    /// Tidy CSV: one line per cell with its row, column, extra axes, chosen grid value, mean, std and n. Text from
    /// the spec or store (header names, rows, columns, axis values) that a spreadsheet would run as a formula is
    /// neutralized with a leading apostrophe; the numbers the report computes are written as they are.
    /// </summary>
    internal static string Csv(SweepAnalysis a)
    {
        var layout = a.Layout;
        var header = new List<string> { "row", "column" };
        header.AddRange(a.ExtraAxes);
        if (layout.SelectOver is { } over) header.Add(over);
        header.AddRange(["mean", "std", "n"]);
        var sb = new StringBuilder().AppendLine(string.Join(",", header.Select(h => CsvField(CsvText(h)))));
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
                    fields = [.. fields.Select(CsvText)];
                    fields.AddRange([Number(s.Mean), Number(s.Std), s.N.ToString(CultureInfo.InvariantCulture)]);
                    sb.AppendLine(string.Join(",", fields.Select(CsvField)));
                }
            }
        }
        return sb.ToString();
    }

    internal static string Number(double? v) => v?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    internal static string CsvField(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    /// <summary>
    /// Text from a spec or store as a CSV cell a spreadsheet will not run (formula injection): a value starting with
    /// '=', '+', '-', '@', a tab or a carriage return gets a leading apostrophe, unless it is a plain number (e.g. -0.05).
    /// </summary>
    internal static string CsvText(string s) =>
        s.Length > 0 && s[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !SweepAnalysis.TryNumber(s, out _) ? "'" + s : s;

    static string Markdown(SweepAnalysis a, ReportHeader h, List<ReportTable> tables, ReportFigures figures)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# {Md(a.Sweep.Key)}").AppendLine();
        if (a.Sweep.Description.Length > 0) sb.AppendLine(MdLine(a.Sweep.Description)).AppendLine();
        if (a.Sweep.Reproduces.Length > 0) sb.AppendLine($"**Reproduces:** {Md(a.Sweep.Reproduces)}").AppendLine();
        sb.AppendLine($"**Runs:** {Md(h.Counts)}").AppendLine();
        if (h.Progress is { } progress) sb.AppendLine($"**Partial report:** {Md(progress)}").AppendLine();
        foreach (var note in a.Sweep.Notes) sb.AppendLine($"> Note: {Md(note)}").AppendLine();
        if (h.Environments.Count > 0)
        {
            sb.AppendLine("**Environment of the runs:**").AppendLine();
            foreach (var e in h.Environments) sb.AppendLine($"- {Md(e)}");
            sb.AppendLine();
        }
        if (h.Failures.Count > 0)
        {
            sb.AppendLine("**Failed runs:**").AppendLine();
            foreach (var f in h.Failures) sb.AppendLine($"- {Md(f)}");
            sb.AppendLine();
        }
        foreach (var t in tables.Where(t => !t.AtEnd)) MarkdownTable(a, t, sb);
        foreach (var img in figures.Images)
        {
            sb.AppendLine($"## {Md(img.Title)}").AppendLine().AppendLine($"![{Md(img.Title)}]({Path.GetFileName(img.Png)})").AppendLine();
            if (img.Note is { } note) sb.AppendLine(MdLine(note)).AppendLine();
        }
        if (figures.Empty.Count > 0)
        {
            sb.AppendLine("**Plots left out (no finished runs yet):**").AppendLine();
            foreach (var title in figures.Empty) sb.AppendLine($"- {Md(title)}");
            sb.AppendLine();
        }
        foreach (var t in figures.Flops ?? []) MarkdownTable(a, t, sb);
        if (figures.Latency is { } latency)
        {
            sb.AppendLine(MdLine(latency.Line)).AppendLine();
            foreach (var t in latency.Tables) MarkdownTable(a, t, sb);
            MarkdownList("Latency not measured", latency.NotMeasured, sb);
            MarkdownList("Sparse and dense forward passes disagree on the timing batch", latency.Disagreements, sb);
        }
        if (figures.LayerNames.Count > 0)
        {
            sb.AppendLine("## Layers of the per-layer plots").AppendLine().AppendLine("| index | tensor |").AppendLine("|---:|---|");
            for (var i = 0; i < figures.LayerNames.Count; i++) sb.AppendLine($"| {i} | {Md(figures.LayerNames[i])} |");
            sb.AppendLine();
        }
        foreach (var t in tables.Where(t => t.AtEnd)) MarkdownTable(a, t, sb);
        return sb.ToString();
    }

    static void MarkdownList(string title, IReadOnlyList<string> items, StringBuilder sb)
    {
        if (items.Count == 0) return;
        sb.AppendLine($"**{Md(title)}:**").AppendLine();
        foreach (var i in items) sb.AppendLine($"- {Md(i)}");
        sb.AppendLine();
    }

    static void MarkdownTable(SweepAnalysis a, ReportTable t, StringBuilder sb)
    {
        sb.AppendLine($"## {Md(t.Title)}").AppendLine();
        sb.AppendLine($"| {Md(t.RowHeader ?? a.Layout.Rows)} | {string.Join(" | ", t.Columns.Select(Md))} |");
        sb.AppendLine($"|---|{string.Concat(t.Columns.Select(_ => t.TextCells ? "---|" : "---:|"))}");
        foreach (var r in t.Rows)
            sb.AppendLine($"| {Md(r.Label)} | {string.Join(" | ", r.Cells.Select(c => Md(c.Format(t.NumberFormat))))} |");
        sb.AppendLine();
    }

    /// <summary>
    /// Text from a spec or store as inline Markdown that shows as written: HTML's special characters as entities,
    /// Markdown's inline markup characters and '|' (table cells) escaped with a backslash, line breaks and other
    /// control characters as spaces.
    /// </summary>
    internal static string Md(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            switch (ch)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '~' or '#' or '$':
                    sb.Append('\\').Append(ch);
                    break;
                default: sb.Append(char.IsControl(ch) ? ' ' : ch); break;
            }
        }
        return sb.ToString();
    }

    /// <summary><see cref="Md"/> for a paragraph of its own: also escapes a leading block marker (list, heading underline, numbered item).</summary>
    internal static string MdLine(string s)
    {
        var md = Md(s).TrimStart();
        if (md.Length > 0 && md[0] is '-' or '+' or '=') return "\\" + md;
        var digits = md.TakeWhile(char.IsAsciiDigit).Count();
        return digits > 0 && digits < md.Length && md[digits] is '.' or ')' ? $"{md[..digits]}\\{md[digits..]}" : md;
    }
}

/// <summary>What the report says about its runs: counts by status, how many are missing when the sweep is not finished, the environments they ran in, the failures.</summary>
internal sealed record ReportHeader(string Counts, string? Progress, IReadOnlyList<string> Environments, IReadOnlyList<string> Failures)
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
        var done = Count(RunStatus.Done);
        var progress = done < runs.Count
            ? $"{done} of {runs.Count} runs finished; {runs.Count - done} missing (cells without a finished run show —, plots without one are left out)"
            : null;
        return new ReportHeader(counts, progress, environments, failures);
    }

    static string Describe(EnvironmentInfo e) =>
        $"InitPrune {e.InitPruneVersion}{(e.Commit.Length > 0 ? $" ({e.Commit})" : "")}, TorchSharp {e.TorchSharpVersion}, libtorch {e.LibTorchVersion}, " +
        $"{e.Threads} thread{(e.Threads == 1 ? "" : "s")}, {e.Device}, {e.Os}, {e.Dotnet}" +
        (e.OneDnn is { } isa ? $", oneDNN {isa}" : "");
}

/// <summary>
/// What <c>initprune report</c> asks for. <see cref="Source"/> is a spec (<c>.yaml</c>/<c>.yml</c>), a results store
/// location, or null (the store <see cref="Store"/>, default <c>./initprune-results/store.sqlite</c>).
/// <see cref="Artifacts"/> is the sweep's artefact folder (default <c>./initprune-results</c>, as for <c>sweep</c>).
/// <see cref="Latency"/>, when given, times each done run's sparse and dense forward pass at report time (<c>--latency</c>).
/// </summary>
public sealed record ReportRequest(
    string? Source = null,
    string Scale = "full",
    string? Store = null,
    string? Sweep = null,
    string? Out = null,
    string? Artifacts = null,
    LatencySettings? Latency = null)
{
    public bool IsSpec => Source is { } s && (s.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || s.EndsWith(".yml", StringComparison.OrdinalIgnoreCase));

    public string ArtifactRoot => Artifacts ?? Experiments.Sweeps.Sweep.DefaultOut;
}

/// <summary>How many of a sweep's done runs have their final weights (<c>final.safetensors</c>) under <see cref="Folder"/>.</summary>
public sealed record FinalWeights(string Folder, int Found, int Done);

/// <summary>One sweep's report: its tables, the files written to <see cref="Folder"/>, the progress line of an unfinished sweep (else null), and its final weights.</summary>
public sealed record SweepReportResult(
    string Sweep,
    [property: JsonIgnore] SweepInfo Info,
    IReadOnlyList<ReportTable> Tables,
    ReportFiles Files,
    string? Progress,
    string Folder,
    FinalWeights Weights)
{
    /// <summary>The runs' measured latencies (<c>--latency</c>), else null (and left out of the JSON).</summary>
    public RunLatencies? Latency { get; init; }
}
