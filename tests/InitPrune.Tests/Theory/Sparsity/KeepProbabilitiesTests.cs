using InitPrune.Engine;
using InitPrune.Theory;
using MathNet.Numerics.Distributions;

namespace InitPrune.Tests.Theory.Sparsity;

public class KeepProbabilitiesTests
{
    [Fact]
    public void BernoulliMaskBringsTheWeightVarianceToTheEdge()
    {
        // Monte-Carlo of Theorem 4's identity: n·Var(W δ) = σ_l²·p_l = σ_EOC² for W ~ N(0, σ_l²/n), δ ~ Bernoulli(p_l).
        const double eoc = 1.0, sigma = 2.5;
        const int n = 400, draws = 200_000;
        double p = KeepProbabilities.ForAll(eoc, sigma);
        Assert.Equal(0.16, p, 12);
        var rng = new Random(11);
        var w = new Normal(0, sigma / Math.Sqrt(n), rng);
        var values = Enumerable.Range(0, draws).Select(_ => rng.NextDouble() < p ? n * Math.Pow(w.Sample(), 2) : 0.0).ToArray();
        double mean = values.Average(), se = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (draws - 1) / draws);
        Assert.InRange(mean, eoc * eoc - 5 * se, eoc * eoc + 5 * se);
    }

    [Fact]
    public void PerLayerProbabilitiesAndErrors()
    {
        Assert.Equal([1.0, 0.5, 0.25], KeepProbabilities.ForLayers(Math.Sqrt(2), [Math.Sqrt(2), 2, Math.Sqrt(8)]), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Throws<InitPruneException>(() => KeepProbabilities.ForLayers(Math.Sqrt(2), [1.0]));
        Assert.Throws<InitPruneException>(() => KeepProbabilities.ForAll(0, 1));
    }
}
