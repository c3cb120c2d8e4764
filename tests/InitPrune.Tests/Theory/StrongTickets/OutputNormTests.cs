using InitPrune.Engine;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.StrongTickets;

public class OutputNormTests
{
    [Fact]
    public void OneLayerIsHalfTheSecondMomentOfThePreactivation()
    {
        // By hand: E‖φ(Wx + b)‖² = n/2 (σ_w²‖x‖² + σ_b²).
        Assert.Equal(10 / 2.0 * (0.09 * 2.0 + 0.25), OutputNorm.Expected(2.0, [10], [0.3], [0.5]), 12);
    }

    [Fact]
    public void ClosedFormEqualsTheLayerRecursion()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 50; trial++)
        {
            int depth = random.Next(1, 7);
            int[] widths = [.. Enumerable.Range(0, depth).Select(_ => random.Next(1, 200))];
            double[] sw = [.. widths.Select(_ => 0.05 + random.NextDouble())];
            double[] sb = [.. widths.Select(_ => random.NextDouble())];
            double norm = 3 * random.NextDouble();
            // Second method: iterate E‖x⁽ˡ⁾‖² = n_l/2 (σ_{w,l}² E‖x⁽ˡ⁻¹⁾‖² + σ_{b,l}²) from the proof of Lemma 3.
            double m = norm;
            for (int l = 0; l < depth; l++) m = widths[l] / 2.0 * (sw[l] * sw[l] * m + sb[l] * sb[l]);
            Assert.Equal(m, OutputNorm.Expected(norm, widths, sw, sb), m * 1e-12);
        }
    }

    [Fact]
    public void HeWithProductBiasesKeepsTheNormPlusAboutOne()
    {
        // Seed 004 after Lemma 3: σ_w² = 2/n, σ_b,l = Π σ_w gives ‖x‖² + 1 + 2/100 + (2/100)² for three layers of 100.
        double[] sw = [.. Enumerable.Repeat(Math.Sqrt(0.02), 3)];
        var sb = OutputNorm.ProductBiasScale(sw);
        Assert.Equal(0.02 * Math.Sqrt(0.02), sb[2], 14);
        Assert.Equal(1.5 + 1 + 0.02 + 0.0004, OutputNorm.Expected(1.5, [100, 100, 100], sw, sb), 12);
    }

    [Theory]
    [InlineData(ParameterDistribution.Normal, 11)]
    [InlineData(ParameterDistribution.Uniform, 12)]
    public void SimulationThroughAnMlpMatchesLemma3(ParameterDistribution distribution, long seed)
    {
        var setup = new OutputNormSetup([0.5, -1, 0.3], [48, 24, 12], [0.25, Math.Sqrt(2.0 / 24), 0.3], [0.3, 0.1, 0.5], distribution);
        var estimate = OutputNormSimulation.Run(setup, 1500, seed);
        Assert.Equal(setup.Formula, estimate.Formula);
        Assert.True(Math.Abs(estimate.ZScore) < 4.5, $"mean {estimate.Mean} ± {estimate.StandardError} vs formula {estimate.Formula}");
        Assert.True(estimate.StandardError < 0.05 * estimate.Formula);
    }

    [Fact]
    public void SimulationDetectsAWrongVariance()
    {
        // The same network with σ_{b,3} doubled: the formula for the original setup must be rejected.
        var truth = new OutputNormSetup([0.5, -1, 0.3], [48, 24, 12], [0.25, Math.Sqrt(2.0 / 24), 0.3], [0.3, 0.1, 1.0]);
        var estimate = OutputNormSimulation.Run(truth, 1500, 13);
        double wrong = OutputNorm.Expected(truth.InputNormSq, truth.Widths, truth.SigmaW, [0.3, 0.1, 0.5]);
        Assert.True(Math.Abs(estimate.Mean - wrong) > 5 * estimate.StandardError);
    }

    [Fact]
    public void LooksLinearSimulationMatchesItsFormula()
    {
        var setup = new OutputNormSetup([0.5, -1, 0.3], [8, 16, 16], [], [0.3, 0.1, 0.5], LooksLinear: true);
        var estimate = OutputNormSimulation.Run(setup, 400, 14);
        Assert.Equal(1.34 + 0.09 * 4 + 0.01 * 8 + 0.25 * 8, estimate.Formula, 12);
        Assert.True(Math.Abs(estimate.ZScore) < 4.5, $"mean {estimate.Mean} ± {estimate.StandardError} vs formula {estimate.Formula}");
    }

    [Fact]
    public void LooksLinearWithoutBiasesIsAnIsometryForEveryDraw()
    {
        var setup = new OutputNormSetup([0.5, -1, 0.3], [6, 10, 10], [], [0, 0, 0], LooksLinear: true);
        var estimate = OutputNormSimulation.Run(setup, 20, 15);
        Assert.Equal(1.34, estimate.Mean, 10);
        Assert.True(estimate.StandardError < 1e-10);
    }

    [Fact]
    public void ImpossibleSetupsAreUserErrors()
    {
        Assert.Throws<InitPruneException>(() => OutputNorm.Expected(1, [10, -1], [1, 1], [0, 0]));
        Assert.Throws<InitPruneException>(() => OutputNorm.Expected(1, [10], [0], [0]));
        Assert.Throws<InitPruneException>(() => OutputNorm.Expected(1, [10], [1], [-1]));
        Assert.Throws<InitPruneException>(() => OutputNormSimulation.Run(new OutputNormSetup([1, 2], [3, 4], [], [0, 0], LooksLinear: true), 10, 0));
        Assert.Throws<InitPruneException>(() => OutputNormSimulation.Run(new OutputNormSetup([1], [4], [1], [0]), 1, 0));
    }
}
