using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Inference;
using InitPrune.Reporting;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

internal static class ReportCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var selection = new RunSelection("report");
        var artifacts = new Option<string?>("--artifacts") { Description = $"The sweep's artefact folder (its --artifacts, else its --out; default {Sweep.DefaultOut}): where its final weights are, and the reports go by default" };
        var outDir = new Option<string?>("--out") { Description = "Folder for report.md, report.csv, report.html and the plots (default: <artifacts>/reports/<sweep>)" };
        var latency = new Declared(Param.Of(typeof(LatencySettings)));
        var cmd = new Command("report", "Tables (mean ± std over seeds, methods × sparsities) as Markdown and CSV, plots as PNG and SVG, and one offline HTML page, from a sweep's stored results");
        selection.AddTo(cmd);
        cmd.Add(artifacts);
        cmd.Add(outDir);
        latency.AddTo(cmd);
        cmd.Add(s.Device);
        cmd.Add(s.Json);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var console = Output.Human(json);
            var timing = latency.Build<LatencySettings>(r);
            if (!timing.Latency && latency.Params.FirstOrDefault(p => p.Key != "latency" && latency.Given(r, p.Key)) is { } stray)
                throw new InitPruneException($"{stray.Flag} does nothing without --latency: add --latency to measure latency");
            var reports = SweepReport.Build(selection.Read(r, r.GetValue(outDir), r.GetValue(artifacts)) with { Latency = timing.Latency ? timing : null },
                run => console.WriteLine(run.Measured
                    ? $"latency of run {run.Id} ({run.Model}): sparse {LatencyText(run.SparseSeconds)}, dense {LatencyText(run.DenseSeconds)}"
                    : $"latency of run {run.Id} ({run.Model}) not measured: {run.NotMeasured}"));
            if (json)
            {
                Output.Json(reports);
                return 0;
            }
            foreach (var report in reports)
            {
                var info = report.Info;
                console.MarkupLine($"[bold]{Markup.Escape(report.Sweep)}[/]{(info.Reproduces.Length > 0 ? $" ({Markup.Escape(info.Reproduces)})" : "")}");
                foreach (var note in info.Notes) Output.Warn(console, note);
                if (report.Progress is not null) console.WriteLine($"partial report: {report.Progress}");
                foreach (var t in report.Tables)
                {
                    // The title on its own line: as a table title it would wrap to the width of a narrow table.
                    console.WriteLine(t.Title);
                    console.Write(ToTable(t));
                }
                var w = report.Weights;
                if (w.Found < w.Done)
                    Output.Warn(console, $"final weights of {w.Done - w.Found} of {w.Done} done runs are not in {w.Folder}: pass the sweep's artefact folder with --artifacts");
                else if (w.Done > 0)
                    console.WriteLine($"final weights of the {w.Done} done runs: {w.Folder}/<run id>/final.safetensors");
                if (report.Latency is { } measured)
                    console.WriteLine($"latency: {measured.Runs.Count(x => x.Measured)} of {measured.Runs.Count} done runs measured ({measured.Threads} thread(s), batch {measured.Batch}); tables and plots in report.md");
                var files = report.Files;
                console.WriteLine($"wrote {Path.GetFileName(files.Markdown)}, {Path.GetFileName(files.Csv)}, {Path.GetFileName(files.Html)} and {files.Images.Count} plots to {report.Folder}");
            }
            return 0;
        }));
        return cmd;
    }

    static string LatencyText(double? seconds) => seconds is { } s ? $"{s * 1e6:0.0} µs" : "—";

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
