using System.Text.Json;
using InitPrune.Data;
using InitPrune.Experiments;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using static TorchSharp.torch;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// tests/pytorch/scoring_bench.py, the PyTorch reference of <c>bench --scoring --pytorch</c>: with --exact it computes
/// InitPrune's definitions, so on the same θ₀ and batch (the files <see cref="PyTorchScoring.Write"/> writes) its masks
/// must be InitPrune's; and the benchmark reports every method with positive, finite times. Times are not checked.
/// </summary>
public class PyTorchScoringTests
{
    const long Seed = 5;
    const int Rounds = 10;
    static readonly ModelSpec Small = new("resnet20", WidthMultiplier: 0.125);

    [Fact]
    public async Task The_reference_masks_equal_InitPrune_masks()
    {
        using var temp = new TempDir();
        using var batch = ScoringBenchmark.Batch(8, Seed);
        var (x, y) = batch;
        PyTorchScoring.Write(Small, x, y, Seed, Rounds, temp.Path);
        string[] methods = ["magnitude", "snip", "grasp", "synflow"];
        await PyTorchScript.RunAsync("scoring_bench.py", [temp.Path, .. methods, "--exact", $"--masks={temp.Path}"]);
        foreach (var method in methods)
        {
            using var model = ScoringBenchmark.Build(Small, Seed);
            using var ours = Pruner.Prune(model, ScoringBenchmark.Spec(method, Rounds), new ScoringContext(x, y, TaskKind.Classification, Seed));
            using var theirs = Safetensors.Load(Path.Combine(temp.Path, $"{method}.safetensors"));
            Assert.Equal(ours.Mask.Tensors.Keys.Order(), theirs.Keys.Order());
            long differing = 0, kept = 0;
            foreach (var (name, mask) in ours.Mask.Tensors)
            {
                using var reference = theirs[name].to(ScalarType.Bool);
                using var differ = mask.ne(reference);
                differing += differ.sum().item<long>();
                kept += reference.sum().item<long>();
            }
            Assert.True(differing == 0, $"{method}: {differing} of {ours.Mask.Total} entries differ (kept {ours.Mask.Kept} here, {kept} in PyTorch)");
        }
    }

    [Fact]
    public void The_benchmark_json_has_every_method_with_positive_finite_times()
    {
        using var temp = new TempDir();
        var script = Path.Combine(AppContext.BaseDirectory, "pytorch", "scoring_bench.py");
        PyTorchScoring.RunInto(temp.Path, script, synflowIterations: 2, repetitions: 1, seed: Seed, models: ["resnet20"], batchSize: 4, widthMultiplier: 0.125);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "scoring-pytorch.json")));
        var rows = json.RootElement.GetProperty("methods").EnumerateArray().ToList();
        Assert.Equal(ScoringBenchmark.ReferenceMethods, rows.Select(r => r.GetProperty("method").GetString()));
        foreach (var r in rows)
        {
            foreach (var key in new[] { "init_prune_seconds", "py_torch_seconds", "ratio" })
            {
                double v = r.GetProperty(key).GetDouble();
                Assert.True(v > 0 && double.IsFinite(v), $"{r.GetProperty("method")}: {key} = {v}");
            }
            Assert.True(r.GetProperty("kept").GetInt64() > 0 && r.GetProperty("py_torch_kept").GetInt64() > 0, $"{r.GetProperty("method")}: nothing kept");
        }
        var synflow = json.RootElement.GetProperty("synflow_passes").EnumerateArray().Single();
        foreach (var key in new[] { "init_prune_pass_seconds", "py_torch_pass_seconds", "init_prune_ratio", "py_torch_ratio" })
            Assert.True(synflow.GetProperty(key).GetDouble() is var v && v > 0 && double.IsFinite(v), $"{key} = {synflow.GetProperty(key)}");
    }
}
