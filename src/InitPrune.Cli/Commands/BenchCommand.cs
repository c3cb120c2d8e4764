using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Experiments;

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
        var outDir = s.Out("./initprune-out/bench");
        var cmd = new Command("bench", "Training throughput of LeNet-300-100 (batch 100, Fashion-MNIST-shaped data): masked InitPrune trainer vs a bare TorchSharp loop, medians and ratio; writes bench.json");
        foreach (var o in new Option[] { batches, reps, batch, sparsity, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var report = ThroughputBenchmark.Run(r.GetValue(batches), r.GetValue(reps), r.GetValue(batch), r.GetValue(sparsity), r.GetValue(s.Seed));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "bench.json"), report);
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
}
