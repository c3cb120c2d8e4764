using System.CommandLine;
using InitPrune.Experiments;
using InitPrune.Inference;
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
        var inference = new Option<bool>("--inference") { Description = "Instead: sparse inference of lenet300, mlp5x1000 (784-1000⁵-10), vgg16, vgg16-bn and resnet32 (CIFAR shapes; BatchNorm folded): dense TorchSharp vs the sparse file with the managed and (MLPs) libtorch kernels, per sparsity, batch and thread count, medians and speedups; writes inference.json" };
        var pytorch = new Option<bool>("--pytorch") { Description = "With --inference: also time PyTorch's torch.sparse_csr_tensor on the same files; with --scoring: time Synaptic-Flow's methods in PyTorch on the same weights and batch, interleaved with InitPrune (--repetitions pairs, default 3), ratios and issue 14's goals; writes scoring-pytorch.json (/usr/bin/python3 with python3-torch)" };
        var models = new Option<string?>("--models") { Description = "With --inference: models, comma-separated (default lenet300,mlp5x1000,vgg16,vgg16-bn,resnet32; conv4 on request); with --scoring: default vgg16,resnet32" };
        var sparsities = new Option<string?>("--sparsities") { Description = "With --inference: sparsities, comma-separated (default 0,0.5,0.9,0.95,0.99,0.998)" };
        var batchSizes = new Option<string?>("--batch-sizes") { Description = "With --inference: batch sizes, comma-separated (default 1,100,256)" };
        var threads = new Option<string?>("--threads") { Description = "With --inference: thread counts, comma-separated, 'all' for every core (default 1,all)" };
        var seconds = new Option<double>("--seconds-per-cell") { Description = "With --inference: stop timing a cell after this many seconds (at least 3 timings; --repetitions at most, default 101 there)", DefaultValueFactory = _ => 1.5 };
        var claims = new Option<bool>("--claims") { Description = $"Instead: claim latency and throughput of the results stores, --workers threads each with its own connection claiming and completing --runs runs; a SQLite file, and the PostgreSQL database --store names (which must hold no other sweep); writes claims.json" };
        var claimStore = new Option<string?>("--store") { Description = "With --claims: a PostgreSQL database for the benchmark, postgres://user@host[:port]/database (password from PGPASSWORD or ~/.pgpass)" };
        var claimRuns = new Option<int>("--runs") { Description = "With --claims: runs registered and claimed per store", DefaultValueFactory = _ => 2000 };
        var claimWorkers = new Option<int>("--workers") { Description = "With --claims: concurrent workers", DefaultValueFactory = _ => 8 };
        var outDir = s.Out("./initprune-out/bench");
        var cmd = new Command("bench", "Training throughput of LeNet-300-100 (batch 100, Fashion-MNIST-shaped data): masked InitPrune trainer vs a bare TorchSharp loop, medians and ratio; writes bench.json");
        foreach (var o in new Option[] { batches, reps, batch, sparsity, scoring, synflowIterations, edgePopup, masks, jacobian, inference, pytorch, models, sparsities, batchSizes, threads, seconds, claims, claimStore, claimRuns, claimWorkers, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            if (r.GetValue(inference))
            {
                var options = new InferenceBenchOptions(
                    Shared.ParseList(r.GetValue(models), "--models", (t, _) => t),
                    Shared.ParseList(r.GetValue(sparsities), "--sparsities", double.Parse),
                    Shared.ParseList(r.GetValue(batchSizes), "--batch-sizes", int.Parse),
                    Shared.ParseList(r.GetValue(threads), "--threads", (t, f) => t == "all" ? 0 : int.Parse(t, f)),
                    r.GetResult(reps) is { Implicit: false } ? r.GetValue(reps) : 101,
                    r.GetValue(seconds), r.GetValue(s.Seed),
                    r.GetValue(pytorch) ? Path.Combine(AppContext.BaseDirectory, "pytorch", "sparse_bench.py") : null);
                return Inference(options, r.GetValue(outDir)!, json);
            }
            if (r.GetValue(claims)) return Claims(r.GetValue(claimStore), r.GetValue(claimRuns), r.GetValue(claimWorkers), r.GetValue(outDir)!, json);
            if (r.GetValue(jacobian)) return Jacobian(r.GetValue(reps), r.GetValue(s.Seed), r.GetValue(outDir)!, json);
            if (r.GetValue(edgePopup)) return EdgePopup(r.GetValue(batches), r.GetValue(reps), r.GetValue(s.Seed), r.GetValue(outDir)!, json);
            if (r.GetValue(masks)) return Masks(r.GetValue(reps), r.GetValue(s.Seed), r.GetValue(outDir)!, json);
            if (r.GetValue(scoring))
            {
                var scoringModels = r.GetValue(models) is null ? null : Shared.ParseList(r.GetValue(models), "--models", (t, _) => t);
                if (r.GetValue(pytorch))
                    return ScoringPyTorch(Path.Combine(AppContext.BaseDirectory, "pytorch", "scoring_bench.py"), r.GetValue(synflowIterations),
                        r.GetResult(reps) is { Implicit: false } ? r.GetValue(reps) : 3, r.GetValue(s.Seed), scoringModels, r.GetValue(outDir)!, json);
                return Scoring(r.GetValue(synflowIterations), r.GetValue(s.Seed), scoringModels, r.GetValue(outDir)!, json);
            }
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

    static int Inference(InferenceBenchOptions options, string outDir, bool json)
    {
        var console = Output.Human(json);
        var report = InferenceBench.RunInto(outDir, options,
            progress: (r, note) => console.WriteLine(r is null ? note ?? ""
                : $"{r.Model} s={r.Sparsity} batch {r.Batch}, {r.Threads} thread(s): dense {r.DenseSeconds * 1e6:0} µs, managed {r.ManagedSeconds * 1e6:0} µs, libtorch sparse {r.TorchSparseSeconds * 1e6:0} µs"));
        if (json)
        {
            Output.Json(report);
            return 0;
        }
        var table = new Table().AddColumns("model", "sparsity", "kept", "batch", "threads", "dense (µs)", "managed (µs)", "libtorch sparse (µs)", "PyTorch CSR (µs)", "speedup", "GFLOP/s useful");
        foreach (var r in report.Rows)
            table.AddRow(r.Model, $"{r.Sparsity}", $"{r.KeptWeights:N0}", $"{r.Batch}", $"{r.Threads}", $"{r.DenseSeconds * 1e6:0.0}", $"{r.ManagedSeconds * 1e6:0.0}",
                $"{r.TorchSparseSeconds * 1e6:0.0}", r.PyTorchCsrSeconds is { } p ? $"{p * 1e6:0.0}" : "-", $"{r.BestSpeedup:0.00}× ({r.Best})", $"{r.UsefulGflops:0.00}");
        console.Write(table);
        foreach (var c in report.Crossovers)
            console.WriteLine($"crossover {c.Model} ({c.LayerType} layers), batch {c.Batch}, {c.Threads} thread(s): {(c.Sparsity is { } x ? $"sparse wins from s={x}" : "sparse never wins")}");
        console.WriteLine($"CPU {report.Cpu}, {report.Cores} cores, peak ≈ {report.PeakGflops:0} GFLOP/s; load average {report.LoadAverage}; {Path.Combine(outDir, "inference.json")}");
        return 0;
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

    static int Claims(string? store, int runs, int workers, string outDir, bool json)
    {
        var console = Output.Human(json);
        var table = new Table().AddColumns("store", "runs", "workers", "claims/s", "median (ms)", "p95 (ms)", "max (ms)", "each once");
        var timings = ClaimBenchmark.RunInto(outDir, store, runs, workers,
            progress: t => console.WriteLine($"{t.Store} ({t.Location}): {t.Runs} runs, {t.Workers} workers, {t.ClaimsPerSecond:0} claims/s"));
        foreach (var t in timings)
            table.AddRow(t.Store, $"{t.Runs}", $"{t.Workers}", $"{t.ClaimsPerSecond:0}", $"{t.MedianMilliseconds:0.00}", $"{t.P95Milliseconds:0.00}", $"{t.MaxMilliseconds:0.0}", t.EachOnce ? "yes" : "NO");
        if (json) Output.Json(timings);
        else
        {
            console.Write(table);
            if (store is null) console.WriteLine("PostgreSQL not measured: pass --store postgres://user@host/database (an empty database) to include it");
        }
        return timings.All(t => t.EachOnce) ? 0 : ExitCodes.CheckFailed;
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

    static int ScoringPyTorch(string script, int synflowIterations, int repetitions, long seed, IReadOnlyList<string>? models, string outDir, bool json)
    {
        var console = Output.Human(json);
        var report = PyTorchScoring.RunInto(outDir, script, synflowIterations, repetitions, seed, models, progress: console.WriteLine);
        var table = new Table().AddColumns("model", "method", "InitPrune (s)", "PyTorch (s)", "ratio", $"goal ≤ {PyTorchScoring.Goal}", "kept", "PyTorch kept");
        foreach (var m in report.Methods)
            table.AddRow(m.Model, m.Method, $"{m.InitPruneSeconds:0.000}", $"{m.PyTorchSeconds:0.000}", $"{m.Ratio:0.00}", m.GoalMet ? "met" : "missed", $"{m.Kept:N0}", $"{m.PyTorchKept:N0}");
        var passes = new Table().AddColumns("model", "SynFlow rounds", "pass InitPrune (ms)", "pass PyTorch (ms)", "SynFlow / (N × pass) InitPrune", "PyTorch",
            $"goal ≤ {PyTorchScoring.SynFlowGoal}");
        foreach (var f in report.SynflowPasses)
            passes.AddRow(f.Model, $"{f.Iterations}", $"{f.InitPrunePassSeconds * 1e3:0.0}", $"{f.PyTorchPassSeconds * 1e3:0.0}", $"{f.InitPruneRatio:0.00}",
                $"{f.PyTorchRatio:0.00}", f.GoalMet ? "met" : "missed");
        if (json)
        {
            Output.Json(report);
            return 0;
        }
        console.Write(table);
        console.Write(passes);
        console.WriteLine($"{report.Threads} thread(s) each side, medians of {report.Repetitions} interleaved pairs after one warm-up; PyTorch {report.Torch}; load average {report.LoadAverageStart} → {report.LoadAverageEnd}; {Path.Combine(outDir, "scoring-pytorch.json")}");
        return 0;
    }

    static int Scoring(int synflowIterations, long seed, IReadOnlyList<string>? models, string outDir, bool json)
    {
        var console = Output.Human(json);
        var table = new Table().AddColumns("model", "method", "scoring (s)", "train step (s)", "scoring / step");
        var timings = ScoringBenchmark.RunInto(outDir, synflowIterations, seed,
            progress: t => console.WriteLine($"{t.Model} {t.Method}: {t.ScoringSeconds:0.000} s (train step {t.TrainStepSeconds:0.000} s)"), models);
        foreach (var t in timings)
            table.AddRow(t.Model, t.Method, $"{t.ScoringSeconds:0.000}", $"{t.TrainStepSeconds:0.000}", $"{t.Ratio:0.0}");
        if (json) Output.Json(timings);
        else console.Write(table);
        return 0;
    }
}
