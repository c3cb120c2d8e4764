using InitPrune.Data;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Theory;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Sparsity;

public class CriticalSparsityTests
{
    [Fact]
    public void HandComputedTwoLayerCase()
    {
        // Global order 5(A) 4(A) 3(B) 2.5(B) 1(B) 0.5(B): B's best entry sits at rank 2 of 6, so keeping 2 empties B.
        using var a = tensor(new[] { 5.0, 4.0 });
        using var b = tensor(new[] { 3.0, 2.5, 1.0, 0.5 });
        var p = CriticalSparsity.FromScores([("A", a), ("B", b)]);
        Assert.Equal(("B", 2L, 6L), (p.Layer, p.Rank, p.Total));
        Assert.Equal(2.0 / 3, p.Value, 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void AgreesWithBruteForceOverEveryKeepCount(int seed)
    {
        // Integer scores create ties, which must be broken exactly as MaskBuilder breaks them.
        using var g = new Generator((ulong)seed);
        var scores = new[] { 4L, 9, 6, 3 }.Select((n, i) => ($"l{i}", randint(0, 6, [n], dtype: ScalarType.Float32, generator: g))).ToList();
        var p = CriticalSparsity.FromScores(scores);
        long total = scores.Sum(s => s.Item2.numel());
        long largestEmptying = 0;
        for (long k = 1; k <= total; k++)
            if (AnyLayerEmpty(scores, 1 - (double)k / total)) largestEmptying = k;
        Assert.Equal(largestEmptying, p.Rank);
        Assert.True(AnyLayerEmpty(scores, p.Value));
        Assert.False(AnyLayerEmpty(scores, 1 - (double)(p.Rank + 1) / total));
    }

    [Fact]
    public void SnipScoresOfARealNetworkEmptyALayerExactlyAtTheCriticalSparsity()
    {
        using var model = TestNets.Mlp(12, [12, 12, 12, 12, 12, 12], 10, seed: 3, activation: "tanh", sigmaB: 0.3);
        model.to(ScalarType.Float64);
        using var g = new Generator(4);
        var x = randn([32, 12], dtype: ScalarType.Float64, generator: g);
        var y = randint(0, 10, [32], dtype: ScalarType.Int64, generator: g);
        var targets = Network.Prunable(model);
        var snip = new SnipScorer().Score(model, targets, new ScoringContext(x, y, TaskKind.Classification, 0));
        var scores = targets.Select(t => (t.Name, snip[t.Name])).ToList();
        var p = CriticalSparsity.FromScores(scores);
        Assert.Equal(6 * 144 + 120, p.Total);
        Assert.True(AnyLayerEmpty(scores, p.Value));
        Assert.False(AnyLayerEmpty(scores, 1 - (double)(p.Rank + 1) / p.Total));
    }

    static bool AnyLayerEmpty(IReadOnlyList<(string, Tensor)> scores, double sparsity)
    {
        var mask = MaskBuilder.FromScores(scores, sparsity, PruneScope.Global);
        return scores.Any(s => !mask.Tensors[s.Item1].any().item<bool>());
    }
}
