using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Init;

public class ScaledBiasInitTests
{
    static readonly long[] Wide = [3000, 3000];

    [Theory]
    [InlineData("slt-normal", 2.0)]
    [InlineData("slt-he", 2.0)]
    public void NormalBiasStdIsTheProductOfWeightStds(string name, double sigmaW)
    {
        // Seed 004 §3.1: σ_{b,l} = Π_{k≤l} σ_{w,k}; layers have fan_in 400, 3000, 3000.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: Wide), 400, 3000);
        Initializers.Apply(model, new InitSpec(name, sigmaW, SigmaB: 5), seed: 9);
        double gain = name == "slt-he" ? Math.Sqrt(2) : sigmaW;
        double[] s = [gain / Math.Sqrt(400), gain / Math.Sqrt(3000), gain / Math.Sqrt(3000)];
        double product = 1;
        for (int l = 0; l < 3; l++)
        {
            product *= s[l];
            var w = InitNets.Weight(model, l);
            Assert.Equal(s[l], InitNets.Std(w), 5 * InitNets.RelStdError(w.numel()) * s[l]);
            Assert.Equal(product, InitNets.Std(InitNets.Bias(model, l)), 5 * InitNets.RelStdError(3000) * product);
        }
    }

    [Fact]
    public void UniformBiasBoundIsTheProductOfWeightBounds()
    {
        // Seed 004 Theorem 5: w ~ U[−σ_{w,l}, σ_{w,l}], b ~ U[−Π σ_{w,k}, Π σ_{w,k}]; σ_{w,l} = √3·σw/√fan_in.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: Wide), 400, 3000);
        Initializers.Apply(model, new InitSpec("slt-uniform", 1.5), seed: 10);
        int[] fanIns = [400, 3000, 3000];
        double product = 1;
        for (int l = 0; l < 3; l++)
        {
            double bound = Math.Sqrt(3) * 1.5 / Math.Sqrt(fanIns[l]);
            product *= bound;
            var w = InitNets.Weight(model, l);
            Assert.Equal(bound / Math.Sqrt(3), InitNets.Std(w), 5 * InitNets.RelStdError(w.numel()) * bound);
            // 3000 uniform draws: P(max |b| < 0.99·bound) = 0.99³⁰⁰⁰ ≈ 1e-13.
            Assert.InRange(InitNets.Bias(model, l).abs().max().item<float>(), 0.99 * product, product * (1 + 1e-6));
        }
    }

    [Fact]
    public void SltHeMatchesTheOutputNormOfLemma3()
    {
        // Seed 004 Lemma 3 with ReLU on every layer: E‖f(x)‖² over 400 independent draws, within 5 standard errors.
        long[] widths = [64, 64];
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: widths), 20, 32);
        using var x = randn(1, 20, generator: new Generator(3));
        var values = new double[400];
        for (int d = 0; d < values.Length; d++)
        {
            Initializers.Apply(model, new InitSpec("slt-he"), seed: 100 + d);
            using var y = model.forward(x);
            values[d] = nn.functional.relu(y).to(float64).square().sum().item<double>();
        }
        double[] sw = [Math.Sqrt(2.0 / 20), Math.Sqrt(2.0 / 64), Math.Sqrt(2.0 / 64)];
        double expected = OutputNorm.Expected(x.square().sum().item<float>(), [64, 64, 32], sw, OutputNorm.ProductBiasScale(sw));
        double mean = values.Average();
        double se = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1) / values.Length);
        Assert.True(Math.Abs(mean - expected) < 5 * se, $"mean {mean}, Lemma 3 {expected}, se {se}");
        Assert.True(se < 0.1 * expected, $"se {se} too large to test Lemma 3 ({expected})");
    }
}
