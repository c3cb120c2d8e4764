using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

public class RescaleAndCountTests
{
    static readonly ScoringContext NoData = new(null, null, TaskKind.Classification, 0);

    /// <summary>A conv-shaped masked layer (weight [out, in, k, k]) for the per-(channel, offset) rescaling.</summary>
    sealed class ConvShaped(Tensor w) : MaskedLayer("ConvShaped", w, null)
    {
        public override Tensor forward(Tensor input) => input;
    }

    [Theory]
    [InlineData(RescaleTarget.Dense)]
    [InlineData(RescaleTarget.Unit)]
    [InlineData(RescaleTarget.SigmaW2)]
    public void EocRescalingRestoresEveryUnitsKeptSquaredNorm(RescaleTarget target)
    {
        using var model = TestNets.Mlp(30, [40], 5, seed: 3);
        using var dense = Network.CloneStateDict(model);
        using var r = Pruner.Prune(model, new PruneSpec("random", 0.6, Rescale: new RescaleSpec(RescaleMethod.Eoc, target, 1.7)), NoData);
        foreach (var name in new[] { "layers.0.weight", "layers.2.weight" })
        {
            var w = Network.StateDict(model)[name];
            var m = r.Mask.Tensors[name];
            var expected = target switch
            {
                RescaleTarget.Dense => dense[name].square().sum(1),
                RescaleTarget.Unit => ones(w.shape[0]),
                _ => full(w.shape[0], 1.7 * 1.7),
            };
            Assert.True(w.square().sum(1).div(expected).sub(1).abs().max().item<float>() < 1e-5, name);
            Assert.True(TestNets.Same(w.ne(0), m), name);
            // ρ is constant across each unit's inputs (seed 001 Prop. 1).
            Assert.True(TestNets.Same(w, dense[name] * m.to(ScalarType.Float32) * r.Rescale![name][.., 0].unsqueeze(1)), name);
        }
    }

    [Fact]
    public void EocRescalingOfConvolutionsWorksPerOutputChannelAndKernelOffset()
    {
        using var gen = new Generator(4);
        var w = randn([3, 4, 2, 2], generator: gen);
        var before = w.clone();
        using var layer = new ConvShaped(w);
        var target = new PrunableTensor("conv.weight", layer, false);
        using var keep = rand([3, 4, 2, 2], generator: gen).gt(0.5);
        keep[.., 0, .., ..] = tensor(true);
        layer.SetMask(keep);
        Rescaler.Apply([target], new Dictionary<string, Tensor> { ["conv.weight"] = before }, new RescaleSpec()).Dispose();
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                {
                    double kept = layer.weight[o, .., i, j].square().sum().item<float>();
                    double dense = before[o, .., i, j].square().sum().item<float>();
                    Assert.Equal(1.0, kept / dense, 1e-5);
                }
    }

    [Fact]
    public void Seed002RandomRescalingIsTheInverseSquareRootOfTheKeptFraction()
    {
        using var model = TestNets.Mlp(20, [20], 4);
        var dense = Network.StateDict(model)["layers.0.weight"].detach().clone();
        using var r = Pruner.Prune(model, new PruneSpec("random", 0.75, PruneScope.LayerWise, Rescale: new RescaleSpec(RescaleMethod.Random)), NoData);
        var m = r.Mask.Tensors["layers.0.weight"].to(ScalarType.Float32);
        Assert.True(TestNets.Same(Network.StateDict(model)["layers.0.weight"], dense * m * 2), "(1 − 0.75)^{−1/2} = 2");
    }

    [Fact]
    public void Seed002MagnitudeRescalingRestoresTheSquaredNormInExpectation()
    {
        // t² · Σ kept W² ≈ Σ W² for a Gaussian 100×100 layer: the top 10% sum fluctuates by about 1%.
        using var model = TestNets.Mlp(100, [100], 100, seed: 9);
        var dense = Network.StateDict(model)["layers.2.weight"].detach().clone();
        using var r = Pruner.Prune(model, new PruneSpec("magnitude", 0.9, PruneScope.LayerWise, Rescale: new RescaleSpec(RescaleMethod.Magnitude)), NoData);
        double ratio = Network.StateDict(model)["layers.2.weight"].square().sum().item<float>() / dense.square().sum().item<float>();
        Assert.Equal(1.0, ratio, 0.05);
    }

    [Fact]
    public void WlthKeepsEachLayerWithTheEocProbabilityWithinBinomialError()
    {
        // ReLU, σ_b = 0: σ_{w,EOC} = √2, so σ_w = 2 gives p = 2/4 = 1/2 (seed 001 Theorem 3).
        using var model = TestNets.Mlp(100, [200], 100);
        var opts = new MethodOptions(init: new InitSpec("normal", 2, 0, Activation: "relu"));
        using var r = Pruner.Prune(model, new PruneSpec("wlth", 0.9, Options: opts), NoData with { Seed = 5 });
        foreach (var l in r.Layers)
        {
            double se = Math.Sqrt(0.25 / l.Total);
            Assert.InRange(l.KeptFraction, 0.5 - 5 * se, 0.5 + 5 * se);
        }
        using var again = TestNets.Mlp(100, [200], 100);
        using var r2 = Pruner.Prune(again, new PruneSpec("wlth", 0.9, Options: opts), NoData with { Seed = 5 });
        Assert.True(TestNets.Same(r.Mask.Tensors["layers.2.weight"], r2.Mask.Tensors["layers.2.weight"]));
        var e = Assert.Throws<InitPruneException>(() => Pruner.Prune(again, new PruneSpec("wlth", 0.9, Options: new MethodOptions(init: new InitSpec("normal", 1, 0, Activation: "relu"))), NoData));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Seed003MagnitudePrunesExactlyTheFloorCountOfSmallestEntriesInHiddenLayersOnly()
    {
        using var model = TestNets.Mlp(30, [100, 100], 10);
        var before = Network.StateDict(model)["layers.2.weight"].detach().abs();
        using var r = Pruner.Prune(model, new PruneSpec("seed003-magnitude", 0, Options: MethodOptions.Default.With(Seed003Method.Alpha, 0.5)), NoData);
        // D = 10⁴, ⌊D^{1/2}⌋ = 100 pruned in the only hidden layer; first and last layers untouched.
        Assert.Equal([3000, 10_000 - 100, 1000], r.Layers.Select(l => l.Kept));
        var keep = r.Mask.Tensors["layers.2.weight"];
        Assert.True(before.masked_select(keep.logical_not()).max().item<float>() <= before.masked_select(keep).min().item<float>());
        Assert.Equal(31, Seed003Method.PruneCount(1000, 0.5));
        Assert.Equal(10, Seed003Method.PruneCount(1000, 2.0 / 3));
    }

    [Fact]
    public void Seed003RandomDrawsWithReplacement()
    {
        // c = ⌊500^{0.5}⌋ = 22 draws with replacement among D = 500: E[distinct] = D(1 − (1 − 1/D)^c).
        const int runs = 60;
        double d = 500, c = 22, expected = d * (1 - Math.Pow(1 - 1 / d, c)), sum = 0, sumSq = 0;
        using var model = TestNets.Mlp(30, [20, 25], 10);
        for (int s = 0; s < runs; s++)
        {
            using var r = Pruner.Prune(model, new PruneSpec("seed003-random", 0, Options: MethodOptions.Default.With(Seed003Method.Alpha, 0.5)), NoData with { Seed = s });
            Assert.Equal(600, r.Layers[0].Kept);
            Assert.Equal(250, r.Layers[2].Kept);
            double pruned = 500 - r.Layers[1].Kept;
            Assert.InRange(pruned, 1, 22);
            sum += pruned;
            sumSq += pruned * pruned;
            foreach (var l in Network.Layers(model)) l.Layer.SetMask(null);
        }
        double mean = sum / runs, sd = Math.Sqrt(sumSq / runs - mean * mean);
        Assert.InRange(mean, expected - 5 * Math.Max(sd, 0.1) / Math.Sqrt(runs), expected + 5 * Math.Max(sd, 0.1) / Math.Sqrt(runs));
    }

    sealed class Wrapped : nn.Module<Tensor, Tensor>, IStableResNet
    {
        readonly nn.Module<Tensor, Tensor> inner;

        public Wrapped(nn.Module<Tensor, Tensor> inner, bool stable) : base("Wrapped")
        {
            this.inner = inner;
            Stable = stable;
            RegisterComponents();
        }

        public bool Stable { get; }
        public override Tensor forward(Tensor input) => inner.forward(input);
    }

    [Fact]
    public void SbpSrIsSnipOnAStableResNetAndRefusesOtherModels()
    {
        using var gen = new Generator(2);
        var ctx = new ScoringContext(randn([6, 5], generator: gen), tensor(new long[] { 0, 1, 2, 0, 1, 2 }), TaskKind.Classification, 0);
        using var stable = new Wrapped(TestNets.Mlp(5, [8], 3, seed: 1), stable: true);
        var targets = Network.Prunable(stable);
        var sr = PrunerRegistry.Create("sbp-sr").Score(stable, targets, ctx);
        var snip = new SnipScorer().Score(stable, targets, ctx);
        foreach (var t in targets) Assert.True(TestNets.Same(sr[t.Name], snip[t.Name]), t.Name);
        using var plain = new Wrapped(TestNets.Mlp(5, [8], 3, seed: 1), stable: false);
        var e = Assert.Throws<InitPruneException>(() => Pruner.Prune(plain, new PruneSpec("grasp-sr", 0.5), ctx));
        Assert.Contains("Stable ResNet", e.Message);
    }
}
