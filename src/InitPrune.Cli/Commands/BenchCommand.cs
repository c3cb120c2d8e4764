using System.CommandLine;
using InitPrune.Experiments;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var batches = new Option<int>("--batches") { Description = "Batches per repetition", DefaultValueFactory = _ => 300 };
        var reps = new Option<int>("--repetitions") { Description = "Repetitions of each loop (medians are reported)", DefaultValueFactory = _ => 7 };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => 100 };
        var sparsity = new Option<double>("--sparsity") { Description = "Sparsity of the masked network", DefaultValueFactory = _ => 0.9 };
        var scoring = new Option<bool>("--scoring") { Description = "Instead: time every pruning method's scoring on vgg16 and resnet32 (batch 128, 3×32×32) beside one training step; writes scoring.json" };
        var synflowIterations = new Option<int>("--synflow-iterations") { Description = "SynFlow iterations in the scoring benchmark", DefaultValueFactory = _ => 100 };
        var edgePopup = new Option<bool>("--edge-popup") { Description = "Instead: time one edge-popup step (seed 004's 5×100 MLP and Conv-4, batch 32, 5% kept) beside one SGD step of the same network; --batches steps per repetition; writes edge-popup.json" };
        var masks = new Option<bool>("--masks") { Description = "Instead: time one global mask from vgg16's 14.7M scores (float32 and float64, sparsity 0.9 and 0.99) beside the stable sort it replaced; --repetitions of each, medians; writes masks.json" };
        var jacobian = new Option<bool>("--jacobian") { Description = "Instead: time one ‖J‖ estimate (hidden span, one input, tolerance 1e-4; seed 002) of an MLP 20×256 and Conv-4 beside one SGD step (batch 128) of the same network; --repetitions estimates; writes jacobian.json" };
        var outDir = s.Out("./initprune-out/bench");
        var cmd = new Command("bench", "Training throughput of LeNet-300-100 (batch 100, Fashion-MNIST-shaped data): masked InitPrune trainer vs a bare TorchSharp loop, medians and ratio; writes bench.json");
        foreach (var o in new Option[] { batches, reps, batch, sparsity, scoring, synflowIterations, edgePopup, masks, jacobian, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            if (r.GetValue(jacobian)) return Jacobian(r.GetValue(reps), r.GetValue(s.Seed), r.GetValue(outDir)!, json);
            if (r.GetValue(edgePopup)) return EdgePopup(r.GetValue(batches), r.GetValue(reps), r.GetValue(s.Seed), r.GetValue(outDir)!, json);
            if (r.GetValue(masks)) return Masks(r.GetValue(reps), r.GetValue(s.Seed), r.GetValue(outDir)!, json);
            if (r.GetValue(scoring)) return Scoring(r.GetValue(synflowIterations), r.GetValue(s.Seed), r.GetValue(outDir)!, json);
            var report = ThroughputBenchmark.RunInto(r.GetValue(outDir)!, r.GetValue(batches), r.GetValue(reps), r.GetValue(batch), r.GetValue(sparsity), r.GetValue(s.Seed));
            if (json)
            {
                Output.Json(report);
                return 0;
            }
            Console.WriteLine($"{report.Model}, batch {report.BatchSize}, {report.BatchesPerRepetition} batches × {report.Repetitions} repetitions, {report.Threads} threads");
            Console.WriteLine($"bare TorchSharp loop : {report.BareSamplesPerSecondMedian,10:N0} samples/s (median)");
            Console.WriteLine($"InitPrune, masked s={report.Sparsity}: {report.MaskedSamplesPerSecondMedian,10:N0} samples/s (median)");
            Console.WriteLine($"ratio masked / bare  : {report.Ratio,10:0.000}");
            return 0;
        }));
        return cmd;
    }

    static int EdgePopup(int steps, int repetitions, long seed, string outDir, bool json)
    {
        var console = Output.Human(json);
        var table = new Table().AddColumns("model", "scores", "edge-popup step (ms)", "SGD step (ms)", "ratio");
        var timings = TicketBenchmark.RunInto(outDir, steps, repetitions, seed,
            progress: t => console.WriteLine($"{t.Model}: edge-popup {t.EdgePopupStepSeconds * 1e3:0.000} ms, SGD {t.TrainStepSeconds * 1e3:0.000} ms per step"));
        foreach (var t in timings)
            table.AddRow(Markup.Escape(t.Model), $"{t.Scores:N0}", $"{t.EdgePopupStepSeconds * 1e3:0.000}", $"{t.TrainStepSeconds * 1e3:0.000}", $"{t.Ratio:0.00}");
        if (json) Output.Json(timings);
        else console.Write(table);
        return 0;
    }

    static int Jacobian(int repetitions, long seed, string outDir, bool json)
    {
        var console = Output.Human(json);
        var table = new Table().AddColumns("model", "iterations", "‖J‖ estimate (ms)", "SGD step, batch 128 (ms)", "ratio");
        var timings = JacobianBenchmark.RunInto(outDir, repetitions, seed,
            progress: t => console.WriteLine($"{t.Model}: ‖J‖ {t.EstimateSeconds * 1e3:0.0} ms ({t.Iterations} iterations), SGD step {t.TrainStepSeconds * 1e3:0.0} ms"));
        foreach (var t in timings)
            table.AddRow(Markup.Escape(t.Model), $"{t.Iterations}{(t.Converged ? "" : " (not converged)")}", $"{t.EstimateSeconds * 1e3:0.0}", $"{t.TrainStepSeconds * 1e3:0.0}", $"{t.Ratio:0.00}");
        if (json) Output.Json(timings);
        else console.Write(table);
        return 0;
    }

    static int Masks(int repetitions, long seed, string outDir, bool json)
    {
        var console = Output.Human(json);
        var table = new Table().AddColumns("model", "dtype", "scores", "sparsity", "selection (s)", "sort (s)", "ratio");
        var timings = MaskBenchmark.RunInto(outDir, repetitions, seed,
            progress: t => console.WriteLine($"{t.Model} {t.Dtype} s={t.Sparsity}: selection {t.SelectSeconds:0.000} s, sort {t.SortSeconds:0.000} s"));
        foreach (var t in timings)
            table.AddRow(t.Model, t.Dtype, $"{t.Entries:N0}", $"{t.Sparsity}", $"{t.SelectSeconds:0.000}", $"{t.SortSeconds:0.000}", $"{t.Ratio:0.000}");
        if (json) Output.Json(timings);
        else console.Write(table);
        return 0;
    }

    static int Scoring(int synflowIterations, long seed, string outDir, bool json)
    {
        var console = Output.Human(json);
        var table = new Table().AddColumns("model", "method", "scoring (s)", "train step (s)", "scoring / step");
        var timings = ScoringBenchmark.RunInto(outDir, synflowIterations, seed,
            progress: t => console.WriteLine($"{t.Model} {t.Method}: {t.ScoringSeconds:0.000} s (train step {t.TrainStepSeconds:0.000} s)"));
        foreach (var t in timings)
            table.AddRow(t.Model, t.Method, $"{t.ScoringSeconds:0.000}", $"{t.TrainStepSeconds:0.000}", $"{t.Ratio:0.0}");
        if (json) Output.Json(timings);
        else console.Write(table);
        return 0;
    }
}
