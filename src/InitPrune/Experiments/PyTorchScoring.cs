using System.Diagnostics;
using System.Text;
using System.Text.Json;
using InitPrune.Engine;
using InitPrune.Inference;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>
/// One method on one model, InitPrune beside the PyTorch reference on the same θ₀ and batch: medians of the
/// interleaved timings, <see cref="Ratio"/> = InitPrune / PyTorch, the issue-14 goal being ≤ <see cref="PyTorchScoring.Goal"/>.
/// </summary>
public sealed record ScoringComparison(string Model, string Method, double InitPruneSeconds, double PyTorchSeconds, double Ratio, bool GoalMet,
    long Kept, long PyTorchKept);

/// <summary>
/// SynFlow-N against N of its own forward+backward passes (batch 1 all-ones input, eval mode, R = Σ outputs; InitPrune
/// in float64, the reference in float32): ratio = SynFlow seconds / (N × pass seconds), the goal being InitPrune's ≤
/// <see cref="PyTorchScoring.SynFlowGoal"/>.
/// </summary>
public sealed record SynFlowOverhead(string Model, int Iterations, double InitPrunePassSeconds, double PyTorchPassSeconds,
    double InitPruneRatio, double PyTorchRatio, bool GoalMet);

/// <summary>What <c>bench --scoring --pytorch</c> writes (scoring-pytorch.json).</summary>
public sealed record ScoringReport(int Threads, int Repetitions, int SynflowIterations, int BatchSize, string Torch, string LoadAverageStart,
    string LoadAverageEnd, List<ScoringComparison> Methods, List<SynFlowOverhead> SynflowPasses);

/// <summary>
/// <c>bench --scoring --pytorch</c>: every method of Synaptic-Flow's reference timed in InitPrune and in PyTorch
/// (tests/pytorch/scoring_bench.py, Debian's python3-torch, same thread count), on the same initial weights and batch
/// (written as safetensors with PyTorch names). The two sides alternate call by call (one warm-up each, then
/// <c>repetitions</c> pairs), so load on the machine falls on both; medians.
/// </summary>
public static class PyTorchScoring
{
    /// <summary>Issue 14: every method at most half of the reference's time.</summary>
    public const double Goal = 0.5;

    /// <summary>Issue 14: SynFlow-N within 2× of N forward+backward passes.</summary>
    public const double SynFlowGoal = 2.0;

    public static ScoringReport RunInto(string outDir, string script, int synflowIterations = 100, int repetitions = 3, long seed = 0,
        IReadOnlyList<string>? models = null, Action<string>? progress = null, int batchSize = 128, double widthMultiplier = 1)
    {
        var dir = Artifacts.PrepareOutput(outDir);
        var report = Run(script, Path.Combine(dir, "pytorch"), models, batchSize, synflowIterations, repetitions, seed, widthMultiplier, progress);
        Artifacts.WriteJson(Path.Combine(dir, "scoring-pytorch.json"), report);
        return report;
    }

    public static ScoringReport Run(string script, string workDir, IReadOnlyList<string>? models = null, int batchSize = 128, int synflowIterations = 100,
        int repetitions = 3, long seed = 0, double widthMultiplier = 1, Action<string>? progress = null)
    {
        if (repetitions < 1) throw new InitPruneException($"--repetitions {repetitions} is impossible: use at least 1");
        if (synflowIterations < 1) throw new InitPruneException($"--synflow-iterations {synflowIterations} is impossible: use at least 1");
        string loadStart = InferenceBench.ReadLoad();
        int threads = get_num_threads();
        using var batch = ScoringBenchmark.Batch(batchSize, seed);
        var (x, y) = batch;
        using var python = new Reference(script);
        var methods = new List<ScoringComparison>();
        var synflow = new List<SynFlowOverhead>();
        string torch = "";
        foreach (var name in models ?? ScoringBenchmark.DefaultModels)
        {
            var spec = new ModelSpec(name, WidthMultiplier: widthMultiplier);
            var folder = Path.Combine(workDir, name);
            Write(spec, x, y, seed, synflowIterations, folder);
            torch = python.Ask(new Dictionary<string, object> { ["load"] = Path.GetFullPath(folder), ["threads"] = threads }).GetProperty("torch").GetString()!;
            var pass = Interleaved(repetitions, () =>
            {
                using var model = ScoringBenchmark.Build(spec, seed);
                return (PassSeconds(model, x), 0L);
            }, () => python.Ask(new Dictionary<string, object> { ["pass"] = true }));
            progress?.Invoke($"{name}: one SynFlow pass {pass.Ours * 1e3:0.0} ms, PyTorch {pass.Theirs * 1e3:0.0} ms");
            foreach (var method in ScoringBenchmark.ReferenceMethods)
            {
                var t = Interleaved(repetitions, () =>
                {
                    using var model = ScoringBenchmark.Build(spec, seed);
                    double s = ScoringBenchmark.PruneSeconds(model, method, synflowIterations, x, y, seed, out long kept);
                    return (s, kept);
                }, () => python.Ask(new Dictionary<string, object> { ["method"] = method }));
                var row = new ScoringComparison(name, method, t.Ours, t.Theirs, t.Ours / t.Theirs, t.Ours / t.Theirs <= Goal, t.Kept, t.TheirKept);
                methods.Add(row);
                progress?.Invoke($"{name} {method}: InitPrune {row.InitPruneSeconds:0.000} s, PyTorch {row.PyTorchSeconds:0.000} s, ratio {row.Ratio:0.00}");
                if (method == "synflow")
                {
                    double ours = t.Ours / (synflowIterations * pass.Ours), theirs = t.Theirs / (synflowIterations * pass.Theirs);
                    synflow.Add(new SynFlowOverhead(name, synflowIterations, pass.Ours, pass.Theirs, ours, theirs, ours <= SynFlowGoal));
                }
            }
        }
        return new ScoringReport(threads, repetitions, synflowIterations, batchSize, torch, loadStart, InferenceBench.ReadLoad(), methods, synflow);
    }

    /// <summary>
    /// Writes what scoring_bench.py loads into <paramref name="folder"/>: θ₀ of <paramref name="spec"/> (seeded
    /// kaiming-normal, parameters and buffers by PyTorch name), the batch, and spec.json (the targets in InitPrune's order).
    /// </summary>
    public static void Write(ModelSpec spec, Tensor x, Tensor y, long seed, int synflowIterations, string folder)
    {
        Directory.CreateDirectory(folder);
        using var model = ScoringBenchmark.Build(spec, seed);
        Safetensors.Save(Path.Combine(folder, "weights.safetensors"), Network.FullStateDict(model));
        Safetensors.Save(Path.Combine(folder, "batch.safetensors"), new Dictionary<string, Tensor> { ["inputs"] = x, ["labels"] = y });
        var targets = Pruner.Targets(model, ScoringBenchmark.Spec("magnitude", 1)).Select(t => t.Name).ToList();
        Artifacts.WriteJson(Path.Combine(folder, "spec.json"), new ReferenceSpec(targets, ScoringBenchmark.Sparsity,
            Convert.ToDouble(GraspScorer.Temperature.Default, System.Globalization.CultureInfo.InvariantCulture), synflowIterations));
    }

    sealed record ReferenceSpec(List<string> Targets, double Sparsity, double Temperature, int SynflowIterations);

    /// <summary>One SynFlow pass as <see cref="SynFlowScorer"/> runs it: float64, eval mode, all-ones input of batch 1, backward of Σ outputs.</summary>
    static double PassSeconds(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        model.eval();
        model.to(ScalarType.Float64);
        using var input = ones([1, .. x.shape.Skip(1)], dtype: ScalarType.Float64, device: x.device);
        using var scope = NewDisposeScope();
        long start = Stopwatch.GetTimestamp();
        model.forward(input).sum().backward();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>One warm-up of each side, then <paramref name="repetitions"/> pairs, ours first; medians.</summary>
    static (double Ours, double Theirs, long Kept, long TheirKept) Interleaved(int repetitions, Func<(double Seconds, long Kept)> ours, Func<JsonElement> theirs)
    {
        var a = new List<double>();
        var b = new List<double>();
        long kept = 0, theirKept = 0;
        for (int i = 0; i <= repetitions; i++)
        {
            var (s, k) = ours();
            var answer = theirs();
            if (i == 0) continue;
            a.Add(s);
            b.Add(answer.GetProperty("seconds").GetDouble());
            kept = k;
            theirKept = answer.TryGetProperty("kept", out var tk) ? tk.GetInt64() : 0;
        }
        return (Median(a), Median(b), kept, theirKept);
    }

    static double Median(List<double> v)
    {
        v.Sort();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }

    /// <summary>scoring_bench.py --serve: one JSON command per line in, one JSON answer per line out.</summary>
    sealed class Reference : IDisposable
    {
        readonly Process process;
        readonly StringBuilder stderr = new();

        public Reference(string script)
        {
            var psi = new ProcessStartInfo(InferenceBench.PyTorchPython)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add("--serve");
            try
            {
                process = Process.Start(psi)!;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                throw new InitPruneException($"--pytorch needs {InferenceBench.PyTorchPython} with PyTorch (Debian: sudo apt-get install python3-torch)");
            }
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data);
            };
            process.BeginErrorReadLine();
        }

        public JsonElement Ask(Dictionary<string, object> command)
        {
            string? line = null;
            try
            {
                process.StandardInput.WriteLine(JsonSerializer.Serialize(command));
                process.StandardInput.Flush();
                line = process.StandardOutput.ReadLine();
            }
            catch (IOException)
            {
            }
            if (line is null)
            {
                process.WaitForExit();
                string last;
                lock (stderr) last = stderr.ToString().Trim().Split('\n').LastOrDefault() ?? "";
                throw new InitPruneException($"the PyTorch scoring reference failed: {CheckpointFormat.OneLine(last)} (install python3-torch for --pytorch)");
            }
            return JsonDocument.Parse(line).RootElement.Clone();
        }

        public void Dispose()
        {
            try
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(10_000)) process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
    }
}
