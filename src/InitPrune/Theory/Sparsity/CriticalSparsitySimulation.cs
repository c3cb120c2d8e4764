using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>
/// One empirical-s_cr experiment: <see cref="Samples"/> random MLPs of <see cref="Depth"/> hidden layers of
/// <see cref="Width"/> units (input width = <see cref="Width"/>, <see cref="Classes"/> outputs), initialized with
/// W ~ N(0, σw²/fan_in), b ~ N(0, σb²), scored by <see cref="Method"/> (snip, magnitude, random). For SNIP the batch
/// is <see cref="BatchSize"/> inputs x ~ N(0, I) with labels uniform over the classes. <see cref="FirstLayerShrink"/>
/// = γ divides the first layer's weights (their standard deviation) by γ, 1 = plain initialization: seed 001 Prop. 4's
/// setting, whose proof compares max|X| with γ|Z| and so reads γ as this standard-deviation ratio (α_1 = γ²).
/// </summary>
public sealed record CriticalSparsitySpec(
    int Depth = 20,
    int Width = 100,
    string Activation = "tanh",
    double SigmaW = 1.0,
    double SigmaB = 0.0,
    string Method = "snip",
    int Samples = 10,
    int BatchSize = 100,
    int Classes = 10,
    double FirstLayerShrink = 1.0,
    long Seed = 0)
{
    /// <summary>L, the number of weight matrices (hidden layers + output layer).</summary>
    public int Layers => Depth + 1;
}

/// <summary>s_cr of one sampled network (sample i uses seed <c>Seed + i</c>).</summary>
public sealed record CriticalSparsitySample(long Seed, double Value, string Layer, long Rank, long Total);

/// <summary>Mean, standard deviation and standard error of s_cr over the samples.</summary>
public sealed record CriticalSparsityResult(CriticalSparsitySpec Spec, double Mean, double StdDev, double StdError, IReadOnlyList<CriticalSparsitySample> Samples);

/// <summary>Samples random FFNNs and computes their exact critical sparsity (seed 001 §2, the "10 simulations").</summary>
public static class CriticalSparsitySimulation
{
    public static CriticalSparsityResult Run(CriticalSparsitySpec spec)
    {
        if (spec.Depth < 1 || spec.Width < 1 || spec.Classes < 2 || spec.BatchSize < 1 || spec.Samples < 1)
            throw new InitPruneException($"impossible simulation: depth {spec.Depth}, width {spec.Width}, classes {spec.Classes}, batch {spec.BatchSize}, samples {spec.Samples}; need depth, width, batch, samples ≥ 1 and classes ≥ 2");
        if (!(spec.FirstLayerShrink > 0) || !double.IsFinite(spec.FirstLayerShrink))
            throw new InitPruneException($"first-layer shrink {spec.FirstLayerShrink} is impossible: it divides the first layer's weights and must be finite and > 0");
        var scorer = PrunerRegistry.Create(spec.Method);
        var samples = Enumerable.Range(0, spec.Samples).Select(i => Sample(spec, scorer, spec.Seed + i)).ToList();
        double mean = samples.Average(s => s.Value);
        double sd = samples.Count > 1 ? Math.Sqrt(samples.Sum(s => (s.Value - mean) * (s.Value - mean)) / (samples.Count - 1)) : 0;
        return new CriticalSparsityResult(spec, mean, sd, sd / Math.Sqrt(samples.Count), samples);
    }

    /// <summary>Builds, initializes (in float64, so deep vanishing gradients do not underflow) and scores one network.</summary>
    public static CriticalSparsitySample Sample(CriticalSparsitySpec spec, IScorer scorer, long seed)
    {
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create(new ModelSpec("mlp", spec.Depth, spec.Width, Activation: spec.Activation), spec.Width, spec.Classes);
        Initializers.Apply(model, new InitSpec("normal", spec.SigmaW, spec.SigmaB), Seeds.For(seed, "init"));
        model.to(ScalarType.Float64);
        var targets = Network.Prunable(model);
        using (no_grad()) targets[0].Value.div_(spec.FirstLayerShrink);
        using var gen = new Generator((ulong)Seeds.For(seed, "scr-batch"));
        var x = randn([spec.BatchSize, spec.Width], dtype: ScalarType.Float64, generator: gen).to(Compute.Device);
        var y = randint(spec.Classes, [spec.BatchSize], dtype: ScalarType.Int64, generator: gen).to(Compute.Device);
        var scores = scorer.Score(model, targets, new ScoringContext(x, y, TaskKind.Classification, Seeds.For(seed, "scores")));
        var point = CriticalSparsity.FromScores([.. targets.Select(t => (t.Name, scores[t.Name]))]);
        return new CriticalSparsitySample(seed, point.Value, point.Layer, point.Rank, point.Total);
    }
}
