using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>The mode of BatchNorm layers while a method scores: batch statistics (train) or running statistics (eval).</summary>
public enum ScoreBatchNorm { Train, Eval }

/// <summary>
/// The sanity checks of Frankle et al. 2021, applied to the mask a method chose: none; shuffle (each tensor's mask
/// randomly permuted, seeded: same per-layer counts); reinit (the kept weights drawn afresh from the run's
/// initialization with a new seed); invert (the lowest scores kept instead, at the same count).
/// </summary>
public enum Ablation { None, Shuffle, Reinit, Invert }

/// <summary>
/// Which method, how sparse, over what. <see cref="PruneFirst"/>/<see cref="PruneLast"/> false leave the first/last
/// masked layer dense and out of the count (Synaptic-Flow's <c>--dense-classifier</c> is <c>PruneLast: false</c>).
/// <see cref="PruneBatchNorm"/> adds every BatchNorm's scale γ (and shift β with <see cref="IncludeBiases"/>) to the
/// prunable tensors (Synaptic-Flow's <c>--prune-batchnorm</c>).
/// </summary>
public sealed record PruneSpec(
    string Method,
    double Sparsity,
    PruneScope Scope = PruneScope.Global,
    bool IncludeBiases = false,
    MethodOptions? Options = null,
    RescaleSpec? Rescale = null,
    KeepRule KeepRule = KeepRule.Stable,
    ScoreBatchNorm ScoreBatchNorm = ScoreBatchNorm.Train,
    bool PruneFirst = true,
    bool PruneLast = true,
    Ablation Ablation = Ablation.None,
    bool PruneBatchNorm = false);

/// <summary>
/// The mask, the scores it came from, the per-layer report and any layer-collapse warnings. The result owns the
/// mask, scores and factors it is given, and frees them when disposed.
/// </summary>
public sealed class PruneResult(Mask mask, TensorDict scores, TensorDict? rescale = null) : IDisposable
{
    public Mask Mask { get; } = mask;
    public TensorDict Scores { get; } = scores;

    /// <summary>The factors ρ the kept weights were multiplied by, when the spec asked for rescaling.</summary>
    public TensorDict? Rescale { get; } = rescale;
    public List<LayerReport> Layers { get; } = mask.Report();

    /// <summary>One line per fully pruned tensor (layer collapse: the network's output no longer depends on its input).</summary>
    public IEnumerable<string> Warnings => Layers.Where(l => l.Collapsed)
        .Select(l => $"layer collapse: every weight of '{l.Name}' is pruned, so the network's output no longer depends on its input; lower the sparsity or use layer-wise scope");

    public void Dispose()
    {
        Mask.Dispose();
        Scores.Dispose();
        Rescale?.Dispose();
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
        CheckBatchNorm(PrunerRegistry.Get(spec.Method), spec, model);
        var scorer = PrunerRegistry.Create(spec.Method, spec.Options);
        scorer.CheckModel(model);
        spec.Rescale?.Check();
        CheckAblation(PrunerRegistry.Get(spec.Method), spec);
        Targets(model, spec);
        return scorer;
    }

    /// <summary>Refuses prune_batchnorm where it means nothing: a method or rescaling defined for weight matrices only, a <paramref name="model"/> without BatchNorm (one-line error).</summary>
    public static void CheckBatchNorm(MethodInfo method, PruneSpec spec, nn.Module? model = null)
    {
        if (!spec.PruneBatchNorm) return;
        if (method.NoBatchNorm is { } why)
            throw new Engine.InitPruneException($"prune_batchnorm: method '{method.Name}' cannot prune BatchNorm: {why}");
        if (spec.Rescale is not null)
            throw new Engine.InitPruneException("prune_batchnorm: rescaling multiplies the kept entries of weight matrices by factors of their rows (EOC) or layer counts (seed 002), which are not defined for BatchNorm scales; use rescale none or leave BatchNorm unpruned");
        if (model is not null && !Network.HasBatchNorm(model))
            throw new Engine.InitPruneException("prune_batchnorm: this model has no BatchNorm to prune (use a -bn VGG or a ResNet, or leave prune_batchnorm off)");
    }

    /// <summary>Refuses an ablation, or a spec setting (<see cref="MethodInfo.Check"/>), the method cannot take (one-line error).</summary>
    public static void CheckAblation(MethodInfo method, PruneSpec spec)
    {
        method.Check?.Invoke(spec);
        if (spec.Ablation == Ablation.None) return;
        if (method.Trains)
            throw new Engine.InitPruneException($"ablation {spec.Ablation.ToString().ToLowerInvariant()} applies to methods that prune at initialization, not to '{method.Name}', which trains between rounds");
        if (spec.Ablation == Ablation.Invert && method.Create!(spec.Options ?? MethodOptions.Default) is IMaskMethod)
            throw new Engine.InitPruneException($"ablation invert keeps the lowest scores of a one-shot method; '{method.Name}' chooses its mask itself (iteratively or by counts), so it has no single ranking to invert");
        if (spec.Ablation == Ablation.Reinit && spec.Options?.Init is null)
            throw new Engine.InitPruneException("ablation reinit draws the kept weights from the run's initialization, but the spec carries none (PruneSpec.Options.WithInit)");
    }

    /// <summary>The tensors the spec prunes: every prunable tensor (BatchNorm's too with prune_batchnorm), less those of the first/last masked layer (never a BatchNorm) when they stay dense.</summary>
    public static List<PrunableTensor> Targets(nn.Module<Tensor, Tensor> model, PruneSpec spec)
    {
        var all = Network.Prunable(model, spec.IncludeBiases, spec.PruneBatchNorm);
        if (spec.PruneFirst && spec.PruneLast) return all;
        var first = all.FirstOrDefault(t => !t.IsBatchNorm)?.Layer;
        var last = all.LastOrDefault(t => !t.IsBatchNorm)?.Layer;
        var targets = all.Where(t => (spec.PruneFirst || t.Layer != first) && (spec.PruneLast || t.Layer != last)).ToList();
        if (targets.Count == 0)
            throw new Engine.InitPruneException("prune_first false and prune_last false leave this model no layer to prune: it has only one or two masked layers");
        return targets;
    }

    public static PruneResult Prune(nn.Module<Tensor, Tensor> model, PruneSpec spec, ScoringContext context)
    {
        var scorer = Checked(model, spec);
        if (scorer.NeedsData && (context.X is null || context.Y is null))
            throw new InitPruneException($"method '{scorer.Name}' needs a mini-batch of data to score");
        var targets = Targets(model, spec);
        TensorDict scores;
        Mask mask;
        bool training = model.training;
        if (spec.ScoreBatchNorm == ScoreBatchNorm.Eval) model.eval();
        try
        {
            (scores, mask) = Select(scorer, model, targets, context, spec);
        }
        finally
        {
            model.train(training);
        }
        try
        {
            mask = Ablate(model, targets, mask, spec, context.Seed);
            if (spec.Rescale is not { } rescale)
            {
                mask.ApplyTo(model);
                return new PruneResult(mask, scores);
            }
            using var dense = TensorDict.CloneOf(targets.Select(t => KeyValuePair.Create(t.Name, t.Value)));
            mask.ApplyTo(model);
            return new PruneResult(mask, scores, Rescaler.Apply(targets, dense, rescale));
        }
        catch
        {
            scores.Dispose();
            mask.Dispose();
            throw;
        }
    }

    /// <summary>Scores and mask, both the caller's; nothing is left allocated when scoring or selecting throws.</summary>
    static (TensorDict Scores, Mask Mask) Select(IScorer scorer, nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec)
    {
        if (scorer is IMaskMethod method) return method.ScoreAndSelect(model, targets, context, spec);
        using var scores = scorer.Score(model, targets, context);
        Mask mask;
        using (NewDisposeScope())
        {
            mask = MaskBuilder.FromScores([.. targets.Select(t => (t.Name, spec.Ablation == Ablation.Invert ? scores[t.Name].neg() : scores[t.Name]))],
                spec.Sparsity, spec.Scope, spec.KeepRule);
            foreach (var m in mask.Tensors.Values) m.MoveToOuterDisposeScope();
        }
        return (scores.TakeAll(), mask);
    }

    /// <summary>Shuffles the mask within each tensor, or draws the targets afresh from the initialization (<see cref="Ablation"/>).</summary>
    static Mask Ablate(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, Mask mask, PruneSpec spec, long seed)
    {
        if (spec.Ablation == Ablation.Shuffle)
        {
            using var gen = new Generator((ulong)Engine.Seeds.For(seed, "ablation-shuffle"));
            using var scope = NewDisposeScope();
            var shuffled = mask.Tensors.ToTensorDict(kv => kv.Key, kv =>
            {
                using var perm = randperm(kv.Value.numel(), generator: gen).to(kv.Value.device);
                return kv.Value.flatten().index_select(0, perm).reshape(kv.Value.shape).MoveToOuterDisposeScope();
            });
            mask.Dispose();
            return new Mask(shuffled);
        }
        if (spec.Ablation == Ablation.Reinit)
        {
            using var state = model.state_dict().ToTensorDict(kv => kv.Key, kv => kv.Value.detach().clone());
            Init.Initializers.Apply(model, spec.Options!.Init!, Engine.Seeds.For(seed, "ablation-reinit"));
            using var fresh = TensorDict.CloneOf(targets.Select(t => KeyValuePair.Create(t.Name, t.Value)));
            using (no_grad())
            {
                foreach (var (name, t) in model.state_dict()) t.copy_(state[name]);
                foreach (var t in targets) t.Value.copy_(fresh[t.Name]);
            }
        }
        return mask;
    }
}
