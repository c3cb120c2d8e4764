using FsCheck;
using FsCheck.Fluent;
using InitPrune.Engine;
using InitPrune.Pruning;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

public class MaskBuilderTests
{
    static long Kept(Mask m, string name) => m.Tensors[name].count_nonzero().item<long>();

    [Fact]
    public void GlobalKeepsTheHighestScoresAcrossLayers()
    {
        var a = tensor(new float[] { 0.1f, 0.9f, 0.5f, 0.3f });
        var b = tensor(new float[] { 0.8f, 0.2f });
        using var m = MaskBuilder.FromScores([("a", a), ("b", b)], 0.5, PruneScope.Global);
        Assert.Equal([false, true, true, false], m.Tensors["a"].data<bool>().ToArray());
        Assert.Equal([true, false], m.Tensors["b"].data<bool>().ToArray());
    }

    [Fact]
    public void LayerWiseKeepsTheSameFractionInEveryLayer()
    {
        var a = tensor(new float[] { 0.1f, 0.9f, 0.5f, 0.3f });
        var b = tensor(new float[] { 10f, 20f, 30f, 40f, 50f, 60f, 70f, 80f });
        using var m = MaskBuilder.FromScores([("a", a), ("b", b)], 0.75, PruneScope.LayerWise);
        Assert.Equal([false, true, false, false], m.Tensors["a"].data<bool>().ToArray());
        Assert.Equal([false, false, false, false, false, false, true, true], m.Tensors["b"].data<bool>().ToArray());
    }

    [Fact]
    public void TiesGoToTheEarliestEntryDeterministically()
    {
        var a = ones(2, 3);
        var b = ones(4);
        using var m = MaskBuilder.FromScores([("a", a), ("b", b)], 0.5, PruneScope.Global);
        Assert.Equal([true, true, true, true, true, false], m.Tensors["a"].flatten().data<bool>().ToArray());
        Assert.Equal(0, Kept(m, "b"));
    }

    [Fact]
    public void ExactCountAndThresholdPropertyHoldForRandomInputs()
    {
        var cases = from n1 in Gen.Choose(1, 400)
                    from n2 in Gen.Choose(1, 300)
                    from permille in Gen.Choose(0, 999)
                    from seed in Gen.Choose(0, 5)
                    select (n1, n2, permille, seed);
        Prop.ForAll(cases.ToArbitrary(), c =>
            {
                var (n1, n2, permille, seed) = c;
                double s = permille / 1000.0;
                using var g = new Generator((ulong)seed);
                // Few distinct values, so ties are common.
                var a = randint(0, 7, [n1], generator: g).to(ScalarType.Float32);
                var b = randint(0, 7, [n2], generator: g).to(ScalarType.Float32);
                using var m = MaskBuilder.FromScores([("a", a), ("b", b)], s, PruneScope.Global);
                long k = (long)Math.Round((1 - s) * (n1 + n2), MidpointRounding.AwayFromZero);
                var all = cat([a, b]);
                var keep = cat([m.Tensors["a"], m.Tensors["b"]]);
                bool countOk = keep.count_nonzero().item<long>() == k;
                bool thresholdOk = k == 0 || k == n1 + n2 || all.masked_select(keep).min().item<float>() >= all.masked_select(keep.logical_not()).max().item<float>();
                using var lw = MaskBuilder.FromScores([("a", a), ("b", b)], s, PruneScope.LayerWise);
                bool layerOk = Kept(lw, "a") == MaskBuilder.KeepCount(s, n1) && Kept(lw, "b") == MaskBuilder.KeepCount(s, n2);
                using var again = MaskBuilder.FromScores([("a", a), ("b", b)], s, PruneScope.Global);
                bool sameOk = TestNets.Same(again.Tensors["a"], m.Tensors["a"]) && TestNets.Same(again.Tensors["b"], m.Tensors["b"]);
                return countOk && thresholdOk && layerOk && sameOk;
            }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void SparsityOutsideZeroOneIsAOneLineError(double s)
    {
        var e = Assert.Throws<InitPruneException>(() => MaskBuilder.FromScores([("a", ones(3))], s, PruneScope.Global));
        Assert.Contains("[0, 1)", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void KeepCountRoundsHalfAway()
    {
        Assert.Equal(26_620, MaskBuilder.KeepCount(0.9, 266_200));
        Assert.Equal(2, MaskBuilder.KeepCount(0.5, 3));
        Assert.Equal(5_324, MaskBuilder.KeepCount(0.98, 266_200));
    }
}
