using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using MathNet.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tickets;

/// <summary>
/// Seed 004's output scaling. Lemma 2: multiplying the weights of layer l by σ_l and its biases by Π_{m≤l} σ_m
/// multiplies a ReLU network's output by Π_l σ_l exactly. Edge-popup-scaled (§5) fits the factor λ > 0 that best
/// rescales the output and spreads it over the L layers with σ_l = λ^{1/L} (w ← λ^{1/L} w, b ← λ^{l/L} b).
/// </summary>
public static class OutputScale
{
    /// <summary>Bounds of the cross-entropy fit: λ is searched in [1/<see cref="CrossEntropyRange"/>, <see cref="CrossEntropyRange"/>] per epoch.</summary>
    public const double CrossEntropyRange = 1e3;

    /// <summary>
    /// Lemma 2's transformation, in place: the weight of the l-th masked layer (forward order) times σ_l, its bias
    /// times Π_{m≤l} σ_m. For a feed-forward ReLU network (no skip connections, no normalization) the output is then
    /// Π σ_l times the old one.
    /// </summary>
    public static void ScaleLayers(nn.Module model, IReadOnlyList<double> sigma)
    {
        var layers = Network.Layers(model).Select(l => l.Layer).ToList();
        if (sigma.Count != layers.Count)
            throw new InitPruneException($"Lemma 2 needs one factor per layer: the model has {layers.Count} masked layers, {sigma.Count} factors were given");
        if (sigma.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new InitPruneException($"Lemma 2's factors must be positive and finite, got [{string.Join(", ", sigma)}]");
        using var _ = no_grad();
        double product = 1;
        for (int l = 0; l < layers.Count; l++)
        {
            product *= sigma[l];
            layers[l].weight.mul_(sigma[l]);
            layers[l].bias?.mul_(product);
        }
    }

    /// <summary>Spreads λ over the L masked layers (σ_l = λ^{1/L}): w^{(l)} ← λ^{1/L} w^{(l)}, b^{(l)} ← λ^{l/L} b^{(l)} (seed 004 §5).</summary>
    public static void Distribute(nn.Module model, double lambda)
    {
        int depth = Network.Layers(model).Count();
        ScaleLayers(model, [.. Enumerable.Repeat(Math.Pow(lambda, 1.0 / depth), depth)]);
    }

    /// <summary>
    /// The λ minimizing the mean squared error of λ·output against the targets: Σ y·x^{(L)} / Σ x^{(L)}·x^{(L)}
    /// (seed 004 §5), or null when no λ > 0 minimizes it (zero output, or a fit ≤ 0).
    /// </summary>
    public static double? FitMse(Tensor output, Tensor target)
    {
        using var scope = NewDisposeScope();
        var x = output.to(ScalarType.Float64);
        var y = target.to(ScalarType.Float64).reshape(x.shape);
        double xx = x.mul(x).sum().item<double>(), xy = x.mul(y).sum().item<double>();
        double lambda = xy / xx;
        return xx > 0 && lambda > 0 && double.IsFinite(lambda) ? lambda : null;
    }

    /// <summary>
    /// The λ in [1/<see cref="CrossEntropyRange"/>, <see cref="CrossEntropyRange"/>] minimizing the mean cross-entropy
    /// of λ·logits: golden-section search over ln λ (the loss is convex in λ, so unimodal in ln λ).
    /// </summary>
    public static double FitCrossEntropy(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var z = logits.to(ScalarType.Float64);
        var y = labels.to(ScalarType.Int64);
        double Loss(double t)
        {
            using var inner = NewDisposeScope();
            using var lambda = Math.Exp(t).ToScalar();
            return nn.functional.cross_entropy(z.mul(lambda), y).item<double>();
        }
        double bound = Math.Log(CrossEntropyRange);
        return Math.Exp(FindMinimum.OfScalarFunctionConstrained(Loss, -bound, bound, 1e-8));
    }

    /// <summary>
    /// The fitted λ of <paramref name="model"/>'s output on <paramref name="data"/> (<see cref="FitMse"/> for regression,
    /// <see cref="FitCrossEntropy"/> for classification); null when no positive λ minimizes the MSE.
    /// </summary>
    public static double? Fit(nn.Module<Tensor, Tensor> model, Dataset data, int batchSize = 1000)
    {
        using var scope = NewDisposeScope();
        var (output, target) = Outputs(model, data, batchSize);
        return data.Kind == TaskKind.Classification ? FitCrossEntropy(output, target) : FitMse(output, target);
    }

    /// <summary>
    /// Checks that Lemma 2 holds for <paramref name="model"/> on <paramref name="probe"/>: after <see cref="Distribute"/>
    /// with λ = 3 the output must be 3 times the old one (relative error below 1e-4). The weights are restored exactly.
    /// Skip connections, normalization layers or a non-homogeneous activation break it: a one-line error says so.
    /// </summary>
    public static void CheckHomogeneous(nn.Module<Tensor, Tensor> model, Tensor probe, string modelName)
    {
        const double Lambda = 3;
        bool training = model.training;
        model.eval();
        using var saved = Network.CloneStateDict(model);
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var before = model.forward(probe).to(ScalarType.Float64);
            Distribute(model, Lambda);
            var after = model.forward(probe).to(ScalarType.Float64);
            double error = after.sub(before.mul(Lambda)).norm().item<double>() / Math.Max(before.mul(Lambda).norm().item<double>(), 1e-300);
            if (!(error < 1e-4))
                throw new InitPruneException($"edge-popup-scaled needs a network whose output Lemma 2 scales (feed-forward ReLU, no skip connections or normalization), but scaling {modelName} by λ = 3 changed its output by a relative {error:g3} more than λ: run it without --scaled");
        }
        finally
        {
            Network.LoadStateDict(model, saved, "the saved weights");
            if (training) model.train();
        }
    }

    /// <summary>The model's outputs (float64) and the targets over a whole dataset, in eval mode, without gradients.</summary>
    static (Tensor Output, Tensor Target) Outputs(nn.Module<Tensor, Tensor> model, Dataset data, int batchSize)
    {
        bool training = model.training;
        model.eval();
        using var _ = no_grad();
        var outputs = new List<Tensor>();
        var targets = new List<Tensor>();
        foreach (var (x, y) in new DataLoader(data, batchSize, shuffle: false, seed: 0).Epoch(0))
        {
            using var batchX = x;
            outputs.Add(model.forward(x).to(ScalarType.Float64));
            targets.Add(y);
        }
        if (training) model.train();
        return (cat(outputs), cat(targets));
    }
}
