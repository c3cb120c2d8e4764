using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Tickets;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Tickets;

public class OutputScaleTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Lemma_2_scales_a_relu_networks_output_by_the_product_of_the_factors(int seed)
    {
        var rng = new Random(seed);
        long[] widths = [.. Enumerable.Range(0, 2 + rng.Next(4)).Select(_ => (long)(3 + rng.Next(20)))];
        using var model = TestNets.Mlp(4, widths, 3, seed: seed, sigmaB: 0.5);
        double[] sigma = [.. Enumerable.Range(0, widths.Length + 1).Select(_ => 0.3 + 2.5 * rng.NextDouble())];
        using var gen = new Generator((ulong)seed);
        using var x = randn([64, 4], generator: gen);
        using var _ = no_grad();
        using var before = model.forward(x).to(ScalarType.Float64);
        OutputScale.ScaleLayers(model, sigma);
        using var after = model.forward(x).to(ScalarType.Float64);
        double product = sigma.Aggregate(1.0, (a, b) => a * b);
        using var expected = before.mul(product);
        using var diff = after.sub(expected);
        double relative = diff.norm().item<double>() / expected.norm().item<double>();
        Assert.True(relative < 1e-5, $"relative error {relative}");
    }

    [Fact]
    public void Lemma_2_needs_the_bias_factor_to_be_the_running_product()
    {
        // Independent check of what the lemma asks: scaling biases by σ_l alone (not Π σ_m) breaks the identity.
        using var model = TestNets.Mlp(3, [8, 8], 2, sigmaB: 0.5);
        using var x = randn([32, 3]);
        using var _ = no_grad();
        using var before = model.forward(x);
        foreach (var (_, layer) in Network.Layers(model))
        {
            layer.weight.mul_(2.0);
            layer.bias!.mul_(2.0);
        }
        using var after = model.forward(x);
        using var wrong = before.mul(8.0);
        Assert.False(after.allclose(wrong, rtol: 1e-3));
    }

    [Fact]
    public void Distribute_scales_the_output_by_lambda()
    {
        using var model = TestNets.Mlp(3, [10, 10, 10], 2, sigmaB: 0.3);
        using var x = randn([16, 3]);
        using var _ = no_grad();
        using var before = model.forward(x);
        OutputScale.Distribute(model, 7.5);
        using var after = model.forward(x);
        using var expected = before.mul(7.5);
        Assert.True(after.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Mse_lambda_closed_form_equals_the_brute_force_minimum()
    {
        using var gen = new Generator(7);
        using var output = randn([500, 2], generator: gen);
        using var target = output.mul(2.3).add(randn([500, 2], generator: gen).mul(0.5));
        double lambda = OutputScale.FitMse(output, target)!.Value;
        var o = TestNets.Values(output).Select(v => (double)v).ToArray();
        var y = TestNets.Values(target).Select(v => (double)v).ToArray();
        double Loss(double l)
        {
            double sum = 0;
            for (int i = 0; i < o.Length; i++) sum += (l * o[i] - y[i]) * (l * o[i] - y[i]);
            return sum / o.Length;
        }
        double best = Enumerable.Range(0, 50001).Select(i => 0.01 + i * 1e-4).MinBy(Loss);
        Assert.Equal(best, lambda, 4);
        Assert.True(Loss(lambda) <= Loss(best) + 1e-12);
    }

    [Fact]
    public void Mse_lambda_is_null_when_no_positive_factor_helps()
    {
        using var output = tensor(new float[] { 1, 2, 3 });
        using var target = tensor(new float[] { -1, -2, -3 });
        Assert.Null(OutputScale.FitMse(output, target));
        using var zero = zeros(3);
        Assert.Null(OutputScale.FitMse(zero, target));
    }

    [Fact]
    public void Cross_entropy_lambda_equals_the_brute_force_minimum()
    {
        using var gen = new Generator(3);
        using var labels = randint(0, 4, [400], generator: gen);
        // Weakly informative logits: the best scale is a few times larger than 1.
        using var logits = nn.functional.one_hot(labels, 4).to(ScalarType.Float32).mul(0.4).add(randn([400, 4], generator: gen).mul(0.3));
        double lambda = OutputScale.FitCrossEntropy(logits, labels);
        var z = TestNets.Values(logits).Select(v => (double)v).ToArray();
        var y = TestNets.Values(labels.to(ScalarType.Float32)).Select(v => (int)v).ToArray();
        double Loss(double l)
        {
            // Mean of log Σ_c exp(l z_c) − l z_y, written out (stable: shifted by the row maximum).
            double sum = 0;
            for (int n = 0; n < y.Length; n++)
            {
                var row = z.AsSpan(4 * n, 4);
                double max = double.NegativeInfinity, exp = 0;
                foreach (var v in row) max = Math.Max(max, l * v);
                foreach (var v in row) exp += Math.Exp(l * v - max);
                sum += max + Math.Log(exp) - l * row[y[n]];
            }
            return sum / y.Length;
        }
        // A grid over ln λ from 0.01 to 20, then a finer one around its best point.
        double coarse = Enumerable.Range(0, 2001).Select(i => Math.Exp(Math.Log(0.01) + i * Math.Log(2000) / 2000)).MinBy(Loss);
        double best = Enumerable.Range(-500, 1001).Select(i => coarse * Math.Exp(i * 1e-5)).MinBy(Loss);
        Assert.InRange(best, 1.1, 19);
        Assert.True(Math.Abs(lambda / best - 1) < 1e-4, $"golden section {lambda}, brute force {best}");
        Assert.True(Loss(lambda) <= Loss(best) + 1e-9);
    }

    [Fact]
    public void A_network_lemma_2_does_not_cover_is_refused()
    {
        using var model = TestNets.Mlp(2, [8], 2, activation: "tanh");
        using var x = randn([16, 2]);
        using var weights = Network.CloneStateDict(model);
        var e = Assert.Throws<InitPruneException>(() => OutputScale.CheckHomogeneous(model, x, "mlp (tanh)"));
        Assert.Contains("without --scaled", e.Message);
        Assert.All(Network.StateDict(model), kv => Assert.True(TestNets.Same(kv.Value, weights[kv.Key])));
        using var relu = TestNets.Mlp(2, [8], 2);
        OutputScale.CheckHomogeneous(relu, x, "mlp");
    }
}
