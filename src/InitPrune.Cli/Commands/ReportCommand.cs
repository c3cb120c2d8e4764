using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

internal static class ReportCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var source = new Argument<string>("SPEC|STORE") { Description = "An experiment spec (YAML: reports that sweep) or a results store (.sqlite: reports every sweep in it, or --sweep)" };
        var scale = new Option<string>("--scale") { Description = "With a spec: the scale whose runs to report (full or a scale name such as smoke)", DefaultValueFactory = _ => "full" };
        var store = new Option<string?>("--store") { Description = $"With a spec: the results store (default {SweepCommand.DefaultResults}/store.sqlite)" };
        var sweep = new Option<string?>("--sweep") { Description = "With a store: report only this sweep (name@scale)" };
        var outDir = new Option<string?>("--out") { Description = "Folder for report.md, report.csv, report.html and the plots (default: reports/<sweep> beside the store)" };
        var cmd = new Command("report", "Tables (mean ± std over seeds, methods × sparsities) as Markdown and CSV, plots as PNG and SVG, and one offline HTML page, from a sweep's stored results");
        cmd.Add(source);
        foreach (var o in new Option[] { scale, store, sweep, outDir }) cmd.Add(o);
        cmd.Add(s.Device);
        cmd.Add(s.Json);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var console = Output.Human(json);
            var input = r.GetValue(source)!;
            bool isSpec = input.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || input.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
            if (isSpec && !File.Exists(input))
                throw new InitPruneException($"{input}: no such spec file: check the path (the shipped specs are in configs/)");
            var storePath = isSpec ? r.GetValue(store) ?? Path.Combine(SweepCommand.DefaultResults, "store.sqlite") : input;
            if (!File.Exists(storePath))
                throw new InitPruneException($"no results store at {storePath}: run 'initprune sweep SPEC' first{(isSpec ? " (or pass --store)" : "")}");
            using var results = SqliteResultsStore.Open(storePath);
            var sweeps = results.Sweeps();
            string[] keys;
            if (isSpec)
            {
                var spec = SpecLoader.Load(input, r.GetValue(scale)!, requireData: false);
                keys = [spec.Key];
                if (!sweeps.Any(x => x.Key == spec.Key))
                    throw new InitPruneException($"{storePath} holds no sweep {spec.Key} (it holds {Known(sweeps)}): run 'initprune sweep {input} --scale {spec.Scale}' first");
            }
            else if (r.GetValue(sweep) is { } only)
            {
                if (!sweeps.Any(x => x.Key == only)) throw new InitPruneException($"{storePath} holds no sweep {only}: use one of {Known(sweeps)}");
                keys = [only];
            }
            else keys = [.. sweeps.Select(x => x.Key)];
            if (keys.Length == 0) throw new InitPruneException($"{storePath} holds no sweep yet: run 'initprune sweep SPEC' first");

            var reports = new List<object>();
            foreach (var key in keys)
            {
                var info = sweeps.First(x => x.Key == key);
                // A store's sweep key becomes a folder name only as a safe file name (a hostile key may hold '/' or '..').
                var folder = SweepSpec.FileName(key);
                var dir = r.GetValue(outDir) is { } o ? (keys.Length == 1 ? o : Path.Combine(o, folder)) : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(storePath))!, "reports", folder);
                Artifacts.PrepareOutput(dir);
                var (tables, files, progress) = SweepReport.Write(info, results.Load(key), dir);
                reports.Add(new { sweep = key, tables, files, progress });
                if (json) continue;
                console.MarkupLine($"[bold]{Markup.Escape(key)}[/]{(info.Reproduces.Length > 0 ? $" ({Markup.Escape(info.Reproduces)})" : "")}");
                foreach (var note in info.Notes) Output.Warn(console, note);
                if (progress is not null) console.WriteLine($"partial report: {progress}");
                foreach (var t in tables)
                {
                    // The title on its own line: as a table title it would wrap to the width of a narrow table.
                    console.WriteLine(t.Title);
                    console.Write(ToTable(t));
                }
                console.WriteLine($"wrote {Path.GetFileName(files.Markdown)}, {Path.GetFileName(files.Csv)}, {Path.GetFileName(files.Html)} and {files.Images.Count} plots to {Path.GetFullPath(dir)}");
            }
            if (json) Output.Json(reports);
            return 0;
        }));
        return cmd;
    }

    static string Known(IReadOnlyList<SweepInfo> sweeps) => sweeps.Count == 0 ? "none" : string.Join(", ", sweeps.Select(x => x.Key));

    static Table ToTable(ReportTable t)
    {
        var table = new Table();
        table.AddColumn("");
        foreach (var c in t.Columns) table.AddColumn(Markup.Escape(c));
        foreach (var row in t.Rows)
            table.AddRow([Markup.Escape(row.Label), .. row.Cells.Select(c => Markup.Escape(c.Format(t.NumberFormat)))]);
        return table;
    }
}
