using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Tests.Init;

public class InitializerTests
{
    [Fact]
    public void NormalInitHasTheSeedsVariances()
    {
        // Seed 001 §2: W ~ N(0, σw²/N), B ~ N(0, σb²). With N = 1000 and 10⁶ weights the sample std is within 0.5%.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [1000]), 1000, 1000);
        Initializers.Apply(model, new InitSpec("normal", 1.7, 0.3), seed: 3);
        var w = Network.StateDict(model)["layers.0.weight"];
        Assert.Equal(1.7 / Math.Sqrt(1000), w.std().item<float>(), 0.005 * 1.7 / Math.Sqrt(1000));
        Assert.Equal(0.0, w.mean().item<float>(), 1e-4);
        var b = cat([Network.StateDict(model)["layers.0.bias"], Network.StateDict(model)["layers.2.bias"]]);
        Assert.Equal(0.3, b.std().item<float>(), 0.3 * 0.1); // 2000 draws: ~1.6% sampling error
    }

    [Fact]
    public void KaimingNormalHasStdSqrtTwoOverFanInAndZeroBias()
    {
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [500]), 2000, 300);
        Initializers.Apply(model, new InitSpec("kaiming-normal"), seed: 1);
        var p = Network.StateDict(model);
        Assert.Equal(Math.Sqrt(2.0 / 2000), p["layers.0.weight"].std().item<float>(), 0.01 * Math.Sqrt(2.0 / 2000));
        Assert.Equal(Math.Sqrt(2.0 / 500), p["layers.2.weight"].std().item<float>(), 0.02 * Math.Sqrt(2.0 / 500));
        Assert.Equal(0f, p["layers.0.bias"].abs().max().item<float>());
    }

    [Fact]
    public void SameSeedSameWeightsOtherSeedOtherWeights()
    {
        using var a = TestNets.Mlp(20, [10, 10], 3, seed: 42);
        using var b = TestNets.Mlp(20, [10, 10], 3, seed: 42);
        using var c = TestNets.Mlp(20, [10, 10], 3, seed: 43);
        foreach (var (name, t) in Network.StateDict(a))
        {
            Assert.True(TestNets.Same(t, Network.StateDict(b)[name]), name);
            Assert.False(TestNets.Same(t, Network.StateDict(c)[name]), name);
        }
    }

    [Theory]
    [InlineData("normal", -1.0, 0.0)]
    [InlineData("normal", double.NaN, 0.0)]
    [InlineData("xavier-ish", 1.0, 0.0)]
    public void ImpossibleInitializationsAreRejected(string name, double sw, double sb)
    {
        using var model = TestNets.Mlp(4, [3], 2);
        var e = Assert.Throws<InitPruneException>(() => Initializers.Apply(model, new InitSpec(name, sw, sb), 0));
        Assert.DoesNotContain('\n', e.Message);
    }
}

public class InitializerRegistryTests
{
    public static TheoryData<string> AllNames => [.. Initializers.Names];

    static nn.Module<Tensor, Tensor> Net() => ModelRegistry.Create(new ModelSpec("mlp", Widths: [8, 8]), 6, 4);

    [Theory]
    [MemberData(nameof(AllNames))]
    public void EverySchemeIsDeterministicAndSeedSensitive(string name)
    {
        using var a = Net();
        using var b = Net();
        using var c = Net();
        var spec = new InitSpec(name, 1.2, 0.3, Eta: 0.5, Activation: "tanh");
        Initializers.Apply(a, spec, 11);
        Initializers.Apply(b, spec, 11);
        Initializers.Apply(c, spec, 12);
        foreach (var (n, t) in Network.StateDict(a))
        {
            Assert.True(TestNets.Same(t, Network.StateDict(b)[n]), n);
            Assert.False(TestNets.Same(t, Network.StateDict(c)[n]), n);
        }
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void ZeroBiasZeroesEveryBiasAndKeepsTheWeights(string name)
    {
        using var plain = Net();
        using var zero = Net();
        Initializers.Apply(plain, new InitSpec(name, 1.2, 0.3, Eta: 0.5, Activation: "tanh"), 3);
        Initializers.Apply(zero, new InitSpec(name, 1.2, 0.3, ZeroBias: true, Eta: 0.5, Activation: "tanh"), 3);
        foreach (var (n, t) in Network.StateDict(zero))
        {
            if (n.EndsWith("bias")) Assert.Equal(0f, t.abs().max().item<float>());
            // eoc moves σw with σb (σb = 0 under zero-bias); every other scheme draws the same weights.
            else if (name != "eoc") Assert.True(TestNets.Same(t, Network.StateDict(plain)[n]), n);
        }
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void SchemesWorkOnConvolutions(string name)
    {
        using var model = InitNets.Of(InitNets.Conv(4, 8), nn.ReLU(), InitNets.Conv(8, 8), nn.ReLU(), InitNets.Conv(8, 6));
        Initializers.Apply(model, new InitSpec(name, 1.2, 0.3, Eta: 0.5, Activation: "tanh"), 1);
        foreach (var (n, t) in Network.StateDict(model))
            Assert.True(t.isfinite().all().item<bool>() && t.abs().max().item<float>() > 0, n);
    }

    [Fact]
    public void PrunedEntriesStayZeroAfterReinitialization()
    {
        using var model = Net();
        var layer = Network.Layers(model).First().Layer;
        using var mask = ones(layer.weight.shape);
        mask[0] = zeros(layer.weight.shape[1]);
        layer.SetMask(mask);
        Initializers.Apply(model, new InitSpec("orthogonal"), 2);
        Assert.Equal(0f, layer.weight[0].abs().max().item<float>());
        Assert.True(layer.weight[1].abs().max().item<float>() > 0);
    }

    [Fact]
    public void UnknownNamesListEveryInitialization()
    {
        using var model = Net();
        var e = Assert.Throws<InitPruneException>(() => Initializers.Apply(model, new InitSpec("he"), 0));
        Assert.DoesNotContain('\n', e.Message);
        foreach (var name in Initializers.Names) Assert.Contains(name, e.Message);
        Assert.Equal(12, Initializers.Names.Count);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void ImpossibleEtaIsRejected(double eta)
    {
        using var model = Net();
        var e = Assert.Throws<InitPruneException>(() => Initializers.Apply(model, new InitSpec("correlated", Eta: eta), 0));
        Assert.Contains("eta", e.Message);
    }

    [Fact]
    public void EocWithoutAnActivationSaysHowToGiveOne()
    {
        using var model = InitNets.Of(new MaskedLinear(4, 4));
        var e = Assert.Throws<InitPruneException>(() => Initializers.Apply(model, new InitSpec("eoc"), 0));
        Assert.Contains("InitSpec.Activation", e.Message);
        using var tanh = TestNets.Mlp(3, [3], 2, activation: "tanh");
        Assert.Equal("tanh", Initializers.ModelActivation(tanh));
    }
}
