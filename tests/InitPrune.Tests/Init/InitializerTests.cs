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
