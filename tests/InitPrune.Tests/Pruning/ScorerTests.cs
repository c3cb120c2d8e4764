using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

public class ScorerTests
{
    [Fact]
    public void SnipScoresMatchFiniteDifferences()
    {
        // |W ⊙ ∂L/∂W| against central differences of the batch-mean cross-entropy, in float64.
        using var model = TestNets.Mlp(3, [4], 3, seed: 5, activation: "tanh");
        model.to(ScalarType.Float64);
        using var g = new Generator(1);
        var x = randn([6, 3], dtype: ScalarType.Float64, generator: g);
        var y = tensor(new long[] { 0, 1, 2, 2, 1, 0 });
        var targets = Network.Prunable(model);
        var scores = new SnipScorer().Score(model, targets, new ScoringContext(x, y, TaskKind.Classification, 0));
        double Loss() { using var _ = no_grad(); return nn.functional.cross_entropy(model.forward(x), y).item<double>(); }
        const double h = 1e-6;
        foreach (var t in targets)
        {
            var w = t.Value;
            var flat = w.detach().flatten();
            for (long i = 0; i < flat.numel(); i++)
            {
                double orig = flat[i].item<double>();
                using (no_grad()) w.view(-1)[i] = orig + h;
                double up = Loss();
                using (no_grad()) w.view(-1)[i] = orig - h;
                double down = Loss();
                using (no_grad()) w.view(-1)[i] = orig;
                double expected = Math.Abs(orig * (up - down) / (2 * h));
                Assert.Equal(expected, scores[t.Name].view(-1)[i].item<double>(), 1e-7);
            }
        }
    }

    [Fact]
    public void MagnitudeKeepsTheLargestWeights()
    {
        using var model = TestNets.Mlp(2, [2], 2);
        using (no_grad())
        {
            Network.StateDict(model)["layers.0.weight"].copy_(tensor(new float[,] { { 0.1f, -3f }, { 2f, 0.05f } }));
            Network.StateDict(model)["layers.2.weight"].copy_(tensor(new float[,] { { -0.2f, 1f }, { 0.3f, -0.01f } }));
        }
        using var r = Pruner.Prune(model, new PruneSpec("magnitude", 0.5), new ScoringContext(null, null, TaskKind.Classification, 0));
        Assert.Equal([false, true, true, false], r.Mask.Tensors["layers.0.weight"].flatten().data<bool>().ToArray());
        Assert.Equal([false, true, true, false], r.Mask.Tensors["layers.2.weight"].flatten().data<bool>().ToArray());
        Assert.Equal(new float[] { 0, -3, 2, 0 }, TestNets.Values(Network.StateDict(model)["layers.0.weight"]));
    }

    [Fact]
    public void RandomMasksDependOnlyOnTheSeedAndAreUniform()
    {
        using var model = TestNets.Mlp(100, [100], 10);
        var ctx = new ScoringContext(null, null, TaskKind.Classification, 7);
        using var a = Pruner.Prune(model, new PruneSpec("random", 0.7, PruneScope.LayerWise), ctx);
        using var model2 = TestNets.Mlp(100, [100], 10, seed: 99);
        using var b = Pruner.Prune(model2, new PruneSpec("random", 0.7, PruneScope.LayerWise), ctx);
        using var c = Pruner.Prune(model2, new PruneSpec("random", 0.7, PruneScope.LayerWise), ctx with { Seed = 8 });
        Assert.True(TestNets.Same(a.Mask.Tensors["layers.0.weight"], b.Mask.Tensors["layers.0.weight"]));
        Assert.False(TestNets.Same(a.Mask.Tensors["layers.0.weight"], c.Mask.Tensors["layers.0.weight"]));
        // Kept fraction per input column ~ Binomial(100, 0.3)/100: mean 0.3 over 100 columns.
        var perColumn = a.Mask.Tensors["layers.0.weight"].to(ScalarType.Float32).mean([0]);
        Assert.Equal(0.3, perColumn.mean().item<float>(), 1e-6);
        Assert.True(perColumn.max().item<float>() < 0.6);
    }

    [Fact]
    public void LayerCollapseIsWarnedByName()
    {
        using var model = TestNets.Mlp(50, [50], 2);
        using (no_grad()) Network.StateDict(model)["layers.2.weight"].mul_(1e-6);
        using var r = Pruner.Prune(model, new PruneSpec("magnitude", 0.9), new ScoringContext(null, null, TaskKind.Classification, 0));
        var warning = Assert.Single(r.Warnings);
        Assert.Contains("'layers.2.weight'", warning);
        Assert.Equal(0, r.Layers.Single(l => l.Name == "layers.2.weight").Kept);
    }

    [Fact]
    public void UnknownMethodListsTheKnownOnes()
    {
        using var model = TestNets.Mlp(4, [3], 2);
        var e = Assert.Throws<InitPruneException>(() => Pruner.Prune(model, new PruneSpec("snipe", 0.5), new ScoringContext(null, null, TaskKind.Classification, 0)));
        Assert.Contains("random, magnitude, snip", e.Message);
    }

    [Fact]
    public void MaskFilesRoundTripAndAcceptPyTorchFloatMasks()
    {
        using var model = TestNets.Mlp(10, [8], 3);
        using var r = Pruner.Prune(model, new PruneSpec("magnitude", 0.6), new ScoringContext(null, null, TaskKind.Classification, 0));
        using var temp = new TempDir();
        var dir = temp.Path;
        r.Mask.Save(Path.Combine(dir, "m.safetensors"));
        using var back = Mask.Load(Path.Combine(dir, "m.safetensors"));
        foreach (var (name, t) in r.Mask.Tensors) Assert.True(TestNets.Same(back.Tensors[name], t), name);
        // PyTorch code usually keeps float 0/1 masks.
        InitPrune.IO.Safetensors.Save(Path.Combine(dir, "f.safetensors"), r.Mask.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32)));
        using var f = Mask.Load(Path.Combine(dir, "f.safetensors"));
        Assert.True(TestNets.Same(f.Tensors["layers.0.weight"], r.Mask.Tensors["layers.0.weight"]));
        using var other = TestNets.Mlp(11, [8], 3);
        var e = Assert.Throws<InitPruneException>(() => back.ApplyTo(other));
        Assert.Contains("another model", e.Message);
    }
}
