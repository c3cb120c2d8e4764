using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tickets;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Tickets;

public class EdgePopupTests
{
    static double[] D(Tensor t) => [.. TestNets.Values(t).Select(v => (double)v)];

    /// <summary>The kept set of one tensor at kept fraction ρ, computed independently (stable LINQ sort of |s|).</summary>
    static double[] TopK(double[] s, double rho)
    {
        long k = s.Length - (long)Math.Floor((1 - rho) * s.Length);
        var kept = s.Select((v, i) => (Math.Abs(v), i)).OrderByDescending(e => e.Item1).Take((int)k).Select(e => e.i).ToHashSet();
        return [.. s.Select((_, i) => kept.Contains(i) ? 1.0 : 0.0)];
    }

    [Fact]
    public void Straight_through_gradient_equals_the_hand_derived_one()
    {
        const int B = 5, I = 3, H = 4, O = 2;
        const double rho = 0.5, lr = 0.1;
        using var model = TestNets.Mlp(I, [H], O, seed: 3);
        using var popup = new EdgePopup(model, new EdgePopupConfig(Sparsity: 1 - rho, Momentum: 0, WeightDecay: 0), seed: 1);
        popup.KeptFraction = rho;
        var p = Network.StateDict(model).ToDictionary(kv => kv.Key, kv => D(kv.Value));
        var s = popup.Scores.ToDictionary(kv => kv.Key, kv => D(kv.Value));
        var m = s.ToDictionary(kv => kv.Key, kv => TopK(kv.Value, rho));
        var eff = p.ToDictionary(kv => kv.Key, kv => kv.Value.Zip(m[kv.Key], (w, k) => w * k).ToArray());
        using var gen = new Generator(5);
        using var x = randn([B, I], generator: gen);
        using var y = randn([B, O], generator: gen);
        double[] xs = D(x), ys = D(y);

        // Forward and backward of mean((W2 relu(W1 x + b1) + b2 − y)²) by hand, in double.
        var z = new double[B * H];
        var h = new double[B * H];
        var o = new double[B * O];
        for (int b = 0; b < B; b++)
        {
            for (int j = 0; j < H; j++)
            {
                z[b * H + j] = eff["layers.0.bias"][j] + Enumerable.Range(0, I).Sum(i => eff["layers.0.weight"][j * I + i] * xs[b * I + i]);
                h[b * H + j] = Math.Max(0, z[b * H + j]);
            }
            for (int k = 0; k < O; k++)
                o[b * O + k] = eff["layers.2.bias"][k] + Enumerable.Range(0, H).Sum(j => eff["layers.2.weight"][k * H + j] * h[b * H + j]);
        }
        var dO = o.Select((v, i) => 2 * (v - ys[i]) / (B * O)).ToArray();
        var grads = new Dictionary<string, double[]>
        {
            ["layers.2.weight"] = new double[O * H],
            ["layers.2.bias"] = new double[O],
            ["layers.0.weight"] = new double[H * I],
            ["layers.0.bias"] = new double[H],
        };
        for (int b = 0; b < B; b++)
        {
            for (int k = 0; k < O; k++)
            {
                grads["layers.2.bias"][k] += dO[b * O + k];
                for (int j = 0; j < H; j++) grads["layers.2.weight"][k * H + j] += dO[b * O + k] * h[b * H + j];
            }
            for (int j = 0; j < H; j++)
            {
                double dz = z[b * H + j] > 0 ? Enumerable.Range(0, O).Sum(k => dO[b * O + k] * eff["layers.2.weight"][k * H + j]) : 0;
                grads["layers.0.bias"][j] += dz;
                for (int i = 0; i < I; i++) grads["layers.0.weight"][j * I + i] += dz * xs[b * I + i];
            }
        }

        double loss = popup.Step(x, y, TaskKind.Regression, lr);

        Assert.Equal(o.Select((v, i) => (v - ys[i]) * (v - ys[i])).Average(), loss, 5);
        foreach (var (name, dEff) in grads)
        {
            // Straight-through: dL/ds = dL/d(W ⊙ m) ⊙ W ⊙ sign(s), for kept and pruned entries alike.
            var expected = dEff.Select((g, i) => g * p[name][i] * Math.Sign(s[name][i])).ToArray();
            var actual = D(popup.GradientOf(name)!);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"{name}[{i}]: {actual[i]} vs {expected[i]}");
            var after = D(popup.Scores[name]);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(s[name][i] - lr * actual[i], after[i], 6);
        }
        Assert.Contains(grads["layers.0.weight"].Zip(m["layers.0.weight"]), e => e.First != 0 && e.Second == 0); // pruned entries get gradient too
    }

    [Fact]
    public void Frozen_weights_do_not_move_after_an_epoch_and_the_mask_reproduces_the_supermask()
    {
        using var data = Synthetic.Ellipse(0, 400);
        using var model = TestNets.Mlp(2, [16, 16], 4);
        using var before = Network.CloneStateDict(model);
        var config = new EdgePopupConfig(Sparsity: 0.8, Epochs: 1);
        Tensor supermaskOutput;
        Mask mask;
        using (var popup = new EdgePopup(model, config, seed: 0))
        {
            using var initialScores = TensorDict.CloneOf(popup.Scores.Select(kv => KeyValuePair.Create(kv.Key, (Tensor)kv.Value)));
            var history = popup.Run(data, seed: 0);
            Assert.Single(history);
            Assert.Equal(0.2, history[0].KeptFraction, 15);
            Assert.Equal(1.0, history[0].Lambda);
            Assert.All(Network.StateDict(model), kv => Assert.True(TestNets.Same(kv.Value, before[kv.Key]), $"{kv.Key} moved"));
            Assert.All(popup.Scores, kv => Assert.False(TestNets.Same(kv.Value, initialScores[kv.Key]), $"scores of {kv.Key} did not move"));
            Assert.All(model.parameters(), q => Assert.False(q.requires_grad));
            model.eval();
            using (no_grad()) supermaskOutput = model.forward(data.Test.Inputs).DetachFromDisposeScope();
            mask = popup.Mask();
        }
        using (supermaskOutput)
        using (mask)
        {
            Assert.All(model.parameters(), q => Assert.True(q.requires_grad));
            foreach (var r in mask.Report()) Assert.Equal(r.Total - (long)Math.Floor(0.8 * r.Total), r.Kept);
            Assert.Contains(mask.Tensors.Keys, k => k.EndsWith(".bias"));
            mask.ApplyTo(model);
            using var _ = no_grad();
            using var masked = model.forward(data.Test.Inputs);
            Assert.True(TestNets.Same(supermaskOutput, masked), "the ordinary mask must give the supermask's outputs exactly");
        }
    }

    [Fact]
    public void Scaled_run_multiplies_weights_by_the_fitted_scale_spread_by_lemma_2()
    {
        using var data = Synthetic.ShiftedRelu(0, 300);
        using var model = TestNets.Mlp(1, [12, 12, 12], 1, seed: 2);
        using var before = Network.CloneStateDict(model);
        using var popup = new EdgePopup(model, new EdgePopupConfig(Sparsity: 0.7, Epochs: 2, Scaled: true), seed: 0);
        var history = popup.Run(data, seed: 0);
        double scale = history[^1].Scale;
        Assert.Equal(history[0].Lambda * history[1].Lambda, scale, 12);
        Assert.NotEqual(1.0, scale);
        var layers = Network.Layers(model).Select(l => l.Name).ToList();
        for (int l = 0; l < layers.Count; l++)
        {
            string w = $"{layers[l]}.weight", b = $"{layers[l]}.bias";
            Assert.True(Network.StateDict(model)[w].allclose(before[w].mul(Math.Pow(scale, 1.0 / layers.Count)), rtol: 1e-5, atol: 1e-7), w);
            Assert.True(Network.StateDict(model)[b].allclose(before[b].mul(Math.Pow(scale, (l + 1.0) / layers.Count)), rtol: 1e-5, atol: 1e-7), b);
        }
        // After the last rescaling no λ is left to gain: refitting gives 1.
        Assert.Equal(1.0, OutputScale.Fit(model, data.Train)!.Value, 4);
    }

    [Fact]
    public void Convolutions_get_scores_exact_counts_and_frozen_weights_too()
    {
        using var model = ModelRegistry.Create(new ModelSpec("vcnn", Depth: 2, Width: 4), [1, 8, 8], 3);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), 0.1), 0);
        using var before = Network.CloneStateDict(model);
        using var popup = new EdgePopup(model, new EdgePopupConfig(Sparsity: 0.75), seed: 0);
        using var gen = new Generator(1);
        using var x = randn([8, 1, 8, 8], generator: gen);
        using var y = randint(0, 3, [8], generator: gen);
        popup.Step(x, y, TaskKind.Classification, 0.1);
        var conv = Network.Prunable(model, includeBiases: true).Where(t => t.Value.dim() == 4).ToList();
        Assert.NotEmpty(conv);
        Assert.All(conv, t => Assert.True(popup.GradientOf(t.Name)!.abs().sum().item<float>() > 0, $"{t.Name} got no gradient"));
        Assert.All(Network.StateDict(model), kv => Assert.True(TestNets.Same(kv.Value, before[kv.Key]), $"{kv.Key} moved"));
        using var mask = popup.Mask();
        foreach (var r in mask.Report()) Assert.Equal(r.Total - (long)Math.Floor(0.75 * r.Total), r.Kept);
    }

    [Fact]
    public void Starting_from_a_masked_model_is_one_line_error()
    {
        using var model = TestNets.Mlp(2, [4], 2);
        using var m = ones(4, 2);
        Network.Prunable(model)[0].SetMask(m);
        var e = Assert.Throws<InitPruneException>(() => new EdgePopup(model, new EdgePopupConfig(0.5), seed: 0));
        Assert.Contains("already carries a mask", e.Message);
    }

    [Fact]
    public void Scores_start_kaiming_uniform_with_a_sqrt5_bound_one_over_sqrt_fan_in()
    {
        using var model = TestNets.Mlp(400, [300], 10);
        using var popup = new EdgePopup(model, new EdgePopupConfig(0.5), seed: 0);
        foreach (var (name, fanIn) in new[] { ("layers.0.weight", 400), ("layers.0.bias", 400), ("layers.2.weight", 300), ("layers.2.bias", 300) })
        {
            var v = D(popup.Scores[name]);
            double bound = 1 / Math.Sqrt(fanIn);
            Assert.All(v, x => Assert.InRange(Math.Abs(x), 0, bound));
            if (v.Length > 1000) Assert.Equal(bound * bound / 3, v.Select(x => x * x).Average(), 3); // variance of U(−b, b)
        }
    }
}
