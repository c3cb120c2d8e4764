using InitPrune.Init;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Tests.Init;

public class CorrelatedInitTests
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void EntriesOfALayerHaveCorrelationEtaSquaredOverOnePlusEtaSquared(double eta)
    {
        // Seed 002 App. F: corr(W^{ij}, W^{ml}) = η²/(1+η²), Var(W^{ij}) = (1+η²)σw²/n. Per layer, the mean of
        // W^{ij}W^{ml} over pairs is an unbiased estimate of η²σw²/n; averaged over 40 × 51 independent layers.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Depth: 50, Width: 30), 30, 30);
        double variance = 1.7 * 1.7 / 30;
        var pairs = new List<double>();
        var squares = new List<double>();
        for (int s = 0; s < 40; s++)
        {
            Initializers.Apply(model, new InitSpec("correlated", 1.7, 0, Eta: eta), seed: s);
            foreach (var (_, layer) in Network.Layers(model))
            {
                using var w = layer.weight.to(float64);
                double n = w.numel(), sum = w.sum().item<double>(), sq = w.square().sum().item<double>();
                pairs.Add((sum * sum - sq) / (n * (n - 1)) / variance);
                squares.Add(sq / n / variance);
            }
        }
        AssertMean(eta * eta, pairs);
        AssertMean(1 + eta * eta, squares);
        Assert.Equal(eta * eta / (1 + eta * eta), CorrelatedInit.Correlation(eta), 1e-12);
    }

    [Fact]
    public void LayersDrawTheirOwnSharedScalar()
    {
        // Means of different layers are independent: their correlation across layers is 0 within ~5/√K.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Depth: 400, Width: 20), 20, 20);
        Initializers.Apply(model, new InitSpec("correlated", 1, 0, Eta: 1), seed: 1);
        var means = Network.Layers(model).Select(l => l.Layer.weight.mean().item<float>()).Select(v => (double)v).ToArray();
        double r = MathNet.Numerics.Statistics.Correlation.Pearson(means[..^1], means[1..]);
        Assert.True(Math.Abs(r) < 5 / Math.Sqrt(means.Length), $"lag-1 correlation {r}");
        Assert.True(MathNet.Numerics.Statistics.Statistics.Variance(means) > 0.5 / 20, "the shared scalar must move each layer's mean");
    }

    static void AssertMean(double expected, List<double> values)
    {
        double mean = values.Average();
        double se = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1) / values.Count);
        Assert.True(Math.Abs(mean - expected) < 5 * se, $"mean {mean}, expected {expected}, se {se}");
        Assert.True(se < 0.05 * expected, $"se {se} too large for a test of {expected}");
    }
}
