using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Tickets;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

/// <summary><c>initprune plant</c>: seed 004 Theorem 5's planted strong ticket, checked numerically; its options come from <see cref="PlantSettings"/>.</summary>
internal static class PlantCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var plant = new Declared(Param.Of(typeof(PlantSettings)));
        var targetFile = new Option<string?>("--target") { Description = "A target MLP as .safetensors (layers.0.weight, layers.0.bias, ...; ReLU after hidden layers, linear output) instead of the random one of --architecture" };
        var outDir = s.Out("./initprune-out/plant");
        var cmd = new Command("plant", $"Plant a target ReLU network of depth L in a random network of depth 2L by the construction of seed 004 Theorem 5 (a subset sum of random products per target weight and bias), check sup ‖f − λ f_ε‖ ≤ ε on a grid or sample of [-1,1]^n_0, and compare with edge-popup on the same network. Writes mask.safetensors (weights and biases), weights.safetensors, target.safetensors and summary.json. Exit code {ExitCodes.CheckFailed} when the planted ticket misses ε");
        plant.AddTo(cmd);
        cmd.Add(targetFile);
        cmd.Add(outDir);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var settings = plant.Build<PlantSettings>(r);
            var console = Output.Human(json);
            var dir = r.GetValue(outDir)!;
            var summary = PlantJob.Run(new PlantOptions(settings, r.GetValue(s.Seed), r.GetValue(targetFile)), dir,
                e => console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"edge-popup epoch {e.Epoch}/{settings.EdgePopupEpochs} ρ {e.KeptFraction:g4} λ {e.Lambda:g4} loss {e.TrainLoss:0.000000} test {e.TestLoss:0.000000} {e.Seconds:0.0}s")));
            if (json) Output.Json(summary);
            else Print(console, summary, dir);
            var c = summary.Check;
            if (c.Holds) return ExitCodes.Ok;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"error: the planted ticket misses the bound: sup ‖f − λ f_ε‖ = {c.SupError:0.000E+00} > ε = {c.Epsilon} over the {c.Probe}; raise --c (wider pools) or change --seed"));
            return ExitCodes.CheckFailed;
        }));
        return cmd;
    }

    static void Print(IAnsiConsole console, PlantSummary s, string dir)
    {
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"target [{string.Join(",", s.Target)}] ({s.TargetSource}) planted in a mother network [{string.Join(",", s.MotherWidths)}] (Theorem 5 widths, C = {s.C}, δ = {s.Delta}), λ = {s.Lambda:g6}"));
        var t = new Table().AddColumns("l", "n_{l-1}", "n_l", "n_{2l-1,0}", "ε_l", "tol. w / b", "subset sums", "pool", "max err w", "max err b", "over tol.", "kept w", "kept b");
        foreach (var l in s.Layers)
            t.AddRow($"{l.Layer}", $"{l.InputWidth}", $"{l.Width}", $"{l.WideWidth}", $"{l.EpsilonL:0.000E+00}", $"{l.WeightTolerance:0.0E+00} / {l.BiasTolerance:0.0E+00}",
                $"{l.SubsetSums}", $"{l.MinPool}–{l.MaxPool}", $"{l.MaxWeightError:0.000E+00}", $"{l.MaxBiasError:0.000E+00}", $"{l.OverTolerance}", $"{l.KeptWeights}", $"{l.KeptBiases}");
        console.Write(t);
        var c = s.Check;
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"planted ticket: kept {s.KeptWeights:N0} of {s.TotalWeights:N0} weights and {s.KeptBiases:N0} of {s.TotalBiases:N0} biases (ρ = {s.KeptFraction:0.0000}); sup ‖f − λ f_ε‖ = {c.SupError:0.000E+00} {(c.Holds ? "≤" : ">")} ε = {c.Epsilon}, MSE {c.Mse:0.000E+00} ({c.Points:N0} points: {c.Probe})"));
        if (s.EdgePopup is { } e)
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"edge-popup-scaled, {e.Epochs} epochs, {e.Kept:N0} kept: sup error {e.SupError:0.000E+00} (planted {e.PlantedSupError:0.000E+00}), MSE {e.Mse:0.000E+00} (planted {e.PlantedMse:0.000E+00}); overlap with the planted mask {e.Overlap:N0}: Jaccard {e.Jaccard:0.000}, planted entries kept {e.PlantedEntriesKept:0.000} (chance {e.ChanceEntriesKept:0.000})"));
        console.WriteLine($"wrote {string.Join(", ", s.Files.Values)} to {Path.GetFullPath(dir)}");
    }
}
