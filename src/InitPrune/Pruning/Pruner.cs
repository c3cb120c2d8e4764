using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>Which method, how sparse, over what.</summary>
public sealed record PruneSpec(
    string Method,
    double Sparsity,
    PruneScope Scope = PruneScope.Global,
    bool IncludeBiases = false,
    MethodOptions? Options = null,
    RescaleSpec? Rescale = null);

/// <summary>The mask, the scores it came from, the per-layer report and any layer-collapse warnings.</summary>
public sealed class PruneResult(Mask mask, Dictionary<string, Tensor> scores, Dictionary<string, Tensor>? rescale = null) : IDisposable
{
    public Mask Mask { get; } = mask;
    public Dictionary<string, Tensor> Scores { get; } = scores;

    /// <summary>The factors ρ the kept weights were multiplied by, when the spec asked for rescaling.</summary>
    public Dictionary<string, Tensor>? Rescale { get; } = rescale;
    public List<LayerReport> Layers { get; } = mask.Report();

    /// <summary>One line per fully pruned tensor (layer collapse: the network's output no longer depends on its input).</summary>
    public IEnumerable<string> Warnings => Layers.Where(l => l.Collapsed)
        .Select(l => $"layer collapse: every weight of '{l.Name}' is pruned, so the network's output no longer depends on its input; lower the sparsity or use layer-wise scope");

    public void Dispose()
    {
        Mask.Dispose();
        foreach (var s in Scores.Values) s.Dispose();
        if (Rescale is not null) foreach (var r in Rescale.Values) r.Dispose();
    }
}

/// <summary>One-shot pruning at initialization: score, then keep the top entries.</summary>
public static class Pruner
{
    /// <summary>Refuses a spec that cannot prune <paramref name="model"/> (sparsity, method, options, rescaling), scoring nothing.</summary>
    public static void Check(nn.Module<Tensor, Tensor> model, PruneSpec spec) => Checked(model, spec);

    static IScorer Checked(nn.Module<Tensor, Tensor> model, PruneSpec spec)
    {
        MaskBuilder.CheckSparsity(spec.Sparsity);
        var scorer = PrunerRegistry.Create(spec.Method, spec.Options);
        scorer.CheckModel(model);
        spec.Rescale?.Check();
        return scorer;
    }

    public static PruneResult Prune(nn.Module<Tensor, Tensor> model, PruneSpec spec, ScoringContext context)
    {
        var scorer = Checked(model, spec);
        if (scorer.NeedsData && (context.X is null || context.Y is null))
            throw new Engine.InitPruneException($"method '{scorer.Name}' needs a mini-batch of data to score");
        var targets = Network.Prunable(model, spec.IncludeBiases);
        Dictionary<string, Tensor> scores;
        Mask mask;
        if (scorer is IMaskMethod method)
            (scores, mask) = method.ScoreAndSelect(model, targets, context, spec);
        else
        {
            scores = scorer.Score(model, targets, context);
            mask = MaskBuilder.FromScores([.. targets.Select(t => (t.Name, scores[t.Name]))], spec.Sparsity, spec.Scope);
        }
        if (spec.Rescale is not { } rescale)
        {
            mask.ApplyTo(model);
            return new PruneResult(mask, scores);
        }
        var dense = targets.ToDictionary(t => t.Name, t => t.Value.detach().clone());
        mask.ApplyTo(model);
        var factors = Rescaler.Apply(targets, dense, rescale);
        foreach (var d in dense.Values) d.Dispose();
        return new PruneResult(mask, scores, factors);
    }
}
