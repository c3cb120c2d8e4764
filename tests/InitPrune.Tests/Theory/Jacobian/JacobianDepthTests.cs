using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Theory.Jacobian;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Jacobian;

public class JacobianDepthTests(ITestOutputHelper output)
{
    /// <summary>
    /// Seed 002 Theorem 1 (Pennington et al. 2017 Eq. (17)): ‖J_1‖² ≈ Θ(L(σw²/2)^L) for a ReLU MLP with iid
    /// N(0, σw²/n) weights, so log‖J_1‖ grows at ½log(σw²/2) per layer (the paper prints the law for ‖J_1‖ itself;
    /// docs/theory.md, "Jacobian norm"). Width 256, depths 5…40, two seeds: measured −0.667, +0.026, +0.373.
    /// </summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    public void LogNormGrowsWithDepthAtTheSlopeOfTheTheory(double sigmaW2)
    {
        int[] depths = [5, 10, 20, 30, 40];
        var logs = depths.Select(l => Enumerable.Range(0, 2).Average(seed => Math.Log(Norm(sigmaW2, l, seed)))).ToArray();
        double slope = Slope(depths, logs), theory = JacobianTheory.LogSlope(sigmaW2);
        output.WriteLine($"σw² = {sigmaW2}: log‖J‖ = [{string.Join(", ", logs.Select(v => v.ToString("F3")))}], slope {slope:F4}, theory {theory:F4}");
        if (sigmaW2 == 2.0)
            Assert.InRange(slope, 0, 0.06); // sub-exponential: ½log L alone gives ≈ 0.03 on 5…40
        else
            Assert.InRange(slope, theory - 0.08, theory + 0.08);
    }

    static double Norm(double sigmaW2, int hidden, int seed)
    {
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Depth: hidden + 1, Width: 256, Bias: false), 256, 10);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(sigmaW2)), seed);
        model.to(float64);
        Assert.Equal(hidden, JacobianSpans.Require(model).Depth);
        using var g = new Generator((ulong)seed + 100);
        using var x = randn(256, dtype: float64, generator: g);
        var e = JacobianNorm.Estimate(model, x, new JacobianOptions(Tolerance: 1e-4, Seed: seed));
        Assert.True(e.Converged);
        return e.Norm;
    }

    static double Slope(int[] xs, double[] ys)
    {
        double mx = xs.Average(), my = ys.Average();
        return xs.Select((x, i) => (x - mx) * (ys[i] - my)).Sum() / xs.Sum(x => (x - mx) * (x - mx));
    }
}
