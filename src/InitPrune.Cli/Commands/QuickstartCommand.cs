using System.CommandLine;
using System.Globalization;
using InitPrune.Experiments;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

internal static class QuickstartCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var epochs = new Option<int>("--epochs") { Description = "Training epochs per run", DefaultValueFactory = _ => 5 };
        var methods = new Option<string?>("--methods") { Description = "Comma-separated methods (default random,magnitude,snip)" };
        var sparsities = new Option<string?>("--sparsities") { Description = "Comma-separated sparsities (default 0,0.5,0.9,0.98)" };
        var subset = new Option<long?>("--train-subset") { Description = "Train on only the first N training samples (for a faster look)" };
        var outDir = s.Out("./initprune-out/quickstart");
        var cmd = new Command("quickstart", "The main job: LeNet-300-100 on Fashion-MNIST (else the synthetic ellipse task), pruned at initialization by random, magnitude and SNIP at sparsities 0/0.5/0.9/0.98, trained, tabled and plotted");
        foreach (var o in new Option[] { s.DataDir, epochs, methods, sparsities, subset, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var console = Output.Human(json);
            var options = new QuickstartOptions(r.GetValue(s.DataDir),
                Shared.ParseList(r.GetValue(methods), "--methods", (x, _) => x),
                Shared.ParseList(r.GetValue(sparsities), "--sparsities", double.Parse),
                r.GetValue(epochs), Seed: r.GetValue(s.Seed), TrainSubset: r.GetValue(subset));
            var dir = r.GetValue(outDir)!;
            console.WriteLine(Experiments.Quickstart.Describe(options));
            var result = Output.WithProgress(console, Output.Interactive(json), hook => Quickstart.Run(options, dir, (method, sparsity) =>
                console.MarkupLine($"[bold]{Markup.Escape(method)}[/] at sparsity {sparsity.ToString(CultureInfo.InvariantCulture)}"), hook));
            foreach (var w in result.Runs.SelectMany(x => x.Warnings).Distinct()) Output.Warn(console, w);
            if (json)
            {
                Output.Json(result);
                return 0;
            }
            var table = new Table().Title($"test accuracy (%) after {result.Epochs} epochs, {Markup.Escape(result.Dataset)}");
            table.AddColumn("method");
            var (columns, rows) = result.AccuracyTable();
            foreach (var sp in columns) table.AddColumn(new TableColumn($"s = {sp.ToString(CultureInfo.InvariantCulture)}").RightAligned());
            foreach (var (method, accuracy) in rows)
                table.AddRow([Markup.Escape(method), .. accuracy.Select(a => a.ToString("0.00", CultureInfo.InvariantCulture))]);
            console.Write(table);
            console.WriteLine($"wrote results.json and accuracy.png to {Path.GetFullPath(dir)}");
            return 0;
        }));
        return cmd;
    }
}
