using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Init;

public class IidInitTests
{
    // 5 standard errors of the sample std of n Gaussian draws (uniform draws have a smaller one).
    static void AssertStd(double expected, Tensor t) =>
        Assert.Equal(expected, InitNets.Std(t), 5 * InitNets.RelStdError(t.numel()) * expected);

    [Theory]
    [InlineData("kaiming-normal", false)]
    [InlineData("kaiming-uniform", true)]
    [InlineData("xavier-normal", false)]
    [InlineData("xavier-uniform", true)]
    public void NamedSchemesHaveTheirVarianceAndSupport(string name, bool uniform)
    {
        // Layer 0 is [500, 2000]: fan_in 2000, fan_out 500.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [500]), 2000, 300);
        Initializers.Apply(model, new InitSpec(name, SigmaW: 7, SigmaB: 0.2), seed: 5);
        var w = InitNets.Weight(model, 0);
        double std = name.StartsWith("kaiming") ? Math.Sqrt(2.0 / 2000) : Math.Sqrt(2.0 / 2500);
        AssertStd(std, w);
        Assert.Equal(0.0, w.to(float64).mean().item<double>(), 5 * std / 1000);
        double max = w.abs().max().item<float>();
        if (uniform)
        {
            // U[−√3σ, √3σ]: 10⁶ draws reach within 0.1% of the bound.
            Assert.InRange(max, 0.999 * Math.Sqrt(3) * std, Math.Sqrt(3) * std * (1 + 1e-6));
        }
        else
        {
            Assert.True(max > 4 * std, $"a Gaussian sample of 10⁶ exceeds 4σ; max {max}");
        }
        AssertStd(0.2, InitNets.Bias(model, 0));
    }

    [Fact]
    public void NormalOnAConvolutionUsesInChannelsTimesKernelArea()
    {
        // Seed 001 §2 for CNNs: fan_in = c_in·k².
        using var model = InitNets.Of(InitNets.Conv(64, 256), InitNets.Conv(256, 256, 5));
        Initializers.Apply(model, new InitSpec("normal", 1.3, 0.4), seed: 2);
        AssertStd(1.3 / Math.Sqrt(64 * 9), InitNets.Weight(model, 0));
        AssertStd(1.3 / Math.Sqrt(256 * 25), InitNets.Weight(model, 1));
        var b = cat([InitNets.Bias(model, 0), InitNets.Bias(model, 1)]);
        AssertStd(0.4, b);
    }

    [Fact]
    public void XavierOnAConvolutionCountsTheKernelInBothFans()
    {
        using var model = InitNets.Of(InitNets.Conv(100, 300));
        Initializers.Apply(model, new InitSpec("xavier-normal"), seed: 4);
        AssertStd(Math.Sqrt(2.0 / (100 * 9 + 300 * 9)), InitNets.Weight(model, 0));
    }

    [Theory]
    [InlineData("relu", 0.0)]
    [InlineData("tanh", 0.3)]
    [InlineData("elu", 0.5)]
    public void EocUsesTheEdgeOfChaosSigmaWOfTheModelsActivation(string activation, double sigmaB)
    {
        double sigmaW = EdgeOfChaos.SigmaW(activation, sigmaB);
        using var eoc = ModelRegistry.Create(new ModelSpec("mlp", Widths: [1000], Activation: activation), 1000, 10);
        using var normal = ModelRegistry.Create(new ModelSpec("mlp", Widths: [1000], Activation: activation), 1000, 10);
        Initializers.Apply(eoc, new InitSpec("eoc", SigmaW: 99, SigmaB: sigmaB), seed: 8);
        Initializers.Apply(normal, new InitSpec("normal", sigmaW, sigmaB), seed: 8);
        foreach (var (name, t) in Network.StateDict(eoc))
            Assert.True(TestNets.Same(t, Network.StateDict(normal)[name]), name);
        AssertStd(sigmaW / Math.Sqrt(1000), InitNets.Weight(eoc, 0));
    }

    [Fact]
    public void EocActivationFromTheSpecOverridesTheModel()
    {
        using var a = TestNets.Mlp(300, [300], 3, activation: "relu");
        Initializers.Apply(a, new InitSpec("eoc", SigmaB: 0.2, Activation: "tanh"), seed: 1);
        double expected = EdgeOfChaos.SigmaW("tanh", 0.2) / Math.Sqrt(300);
        AssertStd(expected, InitNets.Weight(a, 0));
        Assert.True(Math.Abs(EdgeOfChaos.SigmaW("relu", 0) - EdgeOfChaos.SigmaW("tanh", 0.2)) > 0.05, "the two activations must give distinguishable sigma_w");
    }

    [Fact]
    public void BatchNormIsResetToUnitScaleAndZeroShift()
    {
        using var model = InitNets.Of(new MaskedLinear(6, 8, true), nn.BatchNorm1d(8), InitNets.Conv(2, 4), nn.BatchNorm2d(4));
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (!name.EndsWith("weight") || name.StartsWith('1') || name.StartsWith('3')) p.normal_(3, 1);
        Initializers.Apply(model, new InitSpec(), seed: 0);
        var p2 = Network.StateDict(model);
        foreach (var bn in new[] { "1", "3" })
        {
            Assert.True(p2[$"{bn}.weight"].eq(1).all().item<bool>(), bn);
            Assert.True(p2[$"{bn}.bias"].eq(0).all().item<bool>(), bn);
        }
    }
}
