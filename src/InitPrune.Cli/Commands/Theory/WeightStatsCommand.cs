using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Theory;
using Spectre.Console;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory weight-stats`: seed 003 App. D.1–D.2 (Table 1, Figs. 1–2) on a network trained here.</summary>
internal static class WeightStatsCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var dataset = new Option<string?>("--dataset") { Description = "Dataset to train on (default fashion-mnist, standing in for seed 003's Covertype; cifar10 for convolutional models)" };
        var model = new Option<string>("--model") { Description = "mlp (seed 003 App. D.1's FCN) or any zoo model, e.g. vgg16 (App. D.2, with --dataset cifar10)", DefaultValueFactory = _ => "mlp" };
        var depth = new Option<int>("--depth") { Description = "mlp: hidden layers (seed 003: 5)", DefaultValueFactory = _ => 5 };
        var width = new Option<int>("--width") { Description = "mlp: hidden width (seed 003: 1024; default 256 to train in a minute on 2 cores)", DefaultValueFactory = _ => 256 };
        var init = new Option<string>("--init") { Description = "Initialization (default Glorot uniform)", DefaultValueFactory = _ => "xavier-uniform" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (Adam, lr 0.001, batch 512 as seed 003; the paper trains 20)", DefaultValueFactory = _ => 2 };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop training after this many optimizer steps (for a quick look at a large model)" };
        var outDir = s.Out("./initprune-out/theory/weight-stats");
        var cmd = new Command("weight-stats", "Seed 003 Table 1 / Figs. 1–2: train a network, then per layer the mean, variance × fan-in and normality tests (Anderson–Darling, Kolmogorov–Smirnov against N(mean, variance)) of the trained and the initial weights; writes weight-stats.json and a histogram per layer");
        foreach (var o in new Option[] { dataset, s.DataDir, model, depth, width, init, epochs, maxSteps, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var name = r.GetValue(model)!;
            var resolved = ModelRegistry.Resolve(name) ?? throw new InitPruneException($"unknown --model '{name}': use mlp or one of {string.Join(", ", ModelRegistry.Names)}");
            var data = r.GetValue(dataset) ?? (resolved is "mlp" or "lenet300" ? "fashion-mnist" : "cifar10");
            var spec = new ModelSpec(resolved, Depth: r.GetValue(depth), Width: r.GetValue(width));
            var initName = r.GetValue(init)!;
            if (!Initializers.Descriptions.ContainsKey(initName))
                throw new InitPruneException($"unknown --init '{initName}': use one of {string.Join(", ", Initializers.Descriptions.Keys)}");
            var console = Output.Human(json);
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            var report = Output.WithProgress(console, Output.Interactive(json), hook =>
                WeightStats.Run(data, r.GetValue(s.DataDir), spec, new InitSpec(initName), r.GetValue(epochs), r.GetValue(s.Seed), dir, r.GetValue(maxSteps), hook));
            Artifacts.WriteJson(Path.Combine(dir, "weight-stats.json"), report);
            if (json)
            {
                Output.Json(report);
                return 0;
            }
            var t = new Table().Title(Markup.Escape($"{report.Model} on {report.Dataset}, {report.Epochs} epochs" + (report.TestAccuracy is { } a ? $", test accuracy {100 * a:0.0}%" : "") + " (initial → trained)"))
                .AddColumns("layer", "shape", "mean", "variance", "var × fan-in", "var × max fan", "excess kurtosis", "AD p", "KS p");
            foreach (var l in report.Layers)
                t.AddRow(Markup.Escape(l.Name), string.Join("×", l.Shape), Pair(l.Initial.Mean, l.Trained.Mean), Pair(l.Initial.Variance, l.Trained.Variance),
                    Pair(l.Initial.VarianceTimesFanIn, l.Trained.VarianceTimesFanIn), Pair(l.Initial.VarianceTimesMaxFan, l.Trained.VarianceTimesMaxFan),
                    Pair(l.Initial.ExcessKurtosis, l.Trained.ExcessKurtosis), Pair(l.Initial.AdPValue, l.Trained.AdPValue), Pair(l.Initial.KsPValue, l.Trained.KsPValue));
            console.Write(t);
            console.WriteLine($"{report.Seconds:0.0} s; wrote weight-stats.json and hist-*.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static string Pair(double a, double b) => $"{a:g3} → {b:g3}";
}
