using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Theory;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.StrongTickets;

public class ParameterRescalingTests
{
    static Mlp Build(long seed)
    {
        var model = new Mlp(4, [16, 8], 3);
        model.to(float64);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), 0.5), seed);
        return model;
    }

    [Fact]
    public void OutputScalesByTheProductOfSigmas()
    {
        using var model = Build(1);
        using var x = rand([32, 4], float64, generator: new Generator(7)).mul_(2).sub_(1);
        using var before = model.forward(x).detach().clone();
        double[] sigma = [0.5, 3.0, 1.7];
        ParameterRescaling.Apply(model, sigma);
        using var after = model.forward(x);
        Assert.Equal(0.5 * 3.0 * 1.7, ParameterRescaling.OutputFactor(sigma), 12);
        Assert.True(after.allclose(before.mul(0.5 * 3.0 * 1.7), rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void ScalingBiasesLikeWeightsBreaksTheIdentity()
    {
        // The identity needs b ↦ Π_{m≤l} σ_m b: scaling every parameter of layer l by σ_l alone gives another function.
        using var model = Build(2);
        using var x = rand([32, 4], float64, generator: new Generator(8)).mul_(2).sub_(1);
        using var before = model.forward(x).detach().clone();
        using (no_grad())
            foreach (var (_, layer) in Network.Layers(model))
            {
                layer.weight.mul_(2.0);
                layer.bias!.mul_(2.0);
            }
        using var after = model.forward(x);
        Assert.False(after.allclose(before.mul(8.0), rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void OutputScaleIsSpreadEvenly()
    {
        var sigma = ParameterRescaling.ForOutputScale(5.0, 4);
        Assert.All(sigma, s => Assert.Equal(Math.Pow(5.0, 0.25), s, 12));
        Assert.Equal(5.0, ParameterRescaling.OutputFactor(sigma), 12);
    }

    [Fact]
    public void ImpossibleScalesAreUserErrors()
    {
        using var model = Build(3);
        Assert.Throws<InitPruneException>(() => ParameterRescaling.Apply(model, [1.0, -1.0, 1.0]));
        Assert.Throws<InitPruneException>(() => ParameterRescaling.Apply(model, [1.0, 1.0]));
        Assert.Throws<InitPruneException>(() => ParameterRescaling.ForOutputScale(0, 3));
    }
}
