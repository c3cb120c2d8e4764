using InitPrune.Data;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

public class Seed003KernelTests
{
    static nn.Module<Tensor, Tensor> Cnn()
    {
        var model = ModelRegistry.Create(new ModelSpec("vcnn", Depth: 3, Width: 6), [1, 8, 8], 3);
        Initializers.Apply(model, new InitSpec(), 4);
        return model;
    }

    /// <summary>Per-kernel kept flags [d', d] of a 4-D mask, asserting every kernel is kept or pruned whole.</summary>
    static bool[,] Kernels(Tensor mask)
    {
        var m = mask.to(ScalarType.Float32).sum([2, 3]);
        var area = mask.shape[2] * mask.shape[3];
        var flags = new bool[mask.shape[0], mask.shape[1]];
        for (int s = 0; s < mask.shape[0]; s++)
            for (int t = 0; t < mask.shape[1]; t++)
            {
                float kept = m[s, t].item<float>();
                Assert.True(kept == 0 || kept == area, $"kernel ({s},{t}) is partly pruned");
                flags[s, t] = kept == area;
            }
        return flags;
    }

    [Fact]
    public void MagnitudePrunesTheKernelsOfSmallestL1Norm()
    {
        using var model = Cnn();
        var before = Network.StateDict(model)["layers.2.weight"].clone();
        using var r = Pruner.Prune(model, new PruneSpec("seed003-magnitude", 0, Options: MethodOptions.Default.With(Seed003Method.Alpha, 0.5)), new ScoringContext(null, null, TaskKind.Classification, 0));
        // 6×6 = 36 kernels: ⌊36^{1 − 0.25}⌋ = ⌊14.7⌋ = 14 pruned.
        Assert.Equal(14, Seed003Method.KernelPruneCount(36, 0.5));
        var flags = Kernels(r.Mask.Tensors["layers.2.weight"]);
        var l1 = before.abs().sum([2, 3]);
        var order = Enumerable.Range(0, 36).OrderBy(i => l1[i / 6, i % 6].item<float>()).ToArray();
        for (int rank = 0; rank < 36; rank++)
            Assert.Equal(rank >= 14, flags[order[rank] / 6, order[rank] % 6]);
        Assert.Equal(0, r.Mask.Tensors["layers.0.weight"].logical_not().count_nonzero().item<long>()); // first layer untouched
        Assert.Equal(0, r.Mask.Tensors["fc.weight"].logical_not().count_nonzero().item<long>()); // last layer untouched
    }

    [Fact]
    public void RandomPrunesWholeKernelsDrawnWithReplacement()
    {
        using var model = Cnn();
        var distinct = new List<int>();
        for (int seed = 0; seed < 40; seed++)
        {
            using var r = Pruner.Prune(model, new PruneSpec("seed003-random", 0, Options: MethodOptions.Default.With(Seed003Method.Alpha, 0.5)), new ScoringContext(null, null, TaskKind.Classification, seed));
            var flags = Kernels(r.Mask.Tensors["layers.2.weight"]);
            distinct.Add(36 - flags.Cast<bool>().Count(k => k));
        }
        Assert.All(distinct, d => Assert.InRange(d, 1, 14));
        // 14 draws with replacement among 36 kernels: E[distinct] = 36 (1 − (35/36)^14) ≈ 11.6.
        double expected = 36 * (1 - Math.Pow(35.0 / 36, 14));
        Assert.InRange(distinct.Average(), expected - 0.7, expected + 0.7);
    }
}
