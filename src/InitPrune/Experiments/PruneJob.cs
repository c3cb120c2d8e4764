using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>Everything <c>initprune prune</c> takes.</summary>
public sealed record PruneOptions(
    string Dataset,
    ModelSpec Model,
    InitSpec Init,
    PruneSpec Prune,
    long Seed = 0,
    int ScoreBatchSize = 100,
    string? DataDir = null,
    string? InitFrom = null,
    bool SaveScores = false);

/// <summary>Iterative magnitude pruning (<c>--method imp</c>): rounds of training, each followed by pruning and rewinding.</summary>
public sealed record ImpOptions(int Rounds, TrainConfig Train);

/// <summary>What <c>initprune prune</c> reports (summary.json).</summary>
public sealed record PruneSummary(
    string Dataset,
    string DataSource,
    string Method,
    string Scope,
    double Sparsity,
    double ActualSparsity,
    long Kept,
    long Total,
    long Seed,
    string Model,
    string Init,
    string? Rescale,
    double MaxSparsityWithoutCollapse,
    IReadOnlyList<LayerReport> Layers,
    IReadOnlyDictionary<string, double[]> UnitKeptFractions,
    IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, string> Files);

/// <summary>Build, initialize, prune once, and write the weights, scoring batch, mask (and scores) to a folder.</summary>
public static class PruneJob
{
    /// <summary>One-shot pruning, or IMP when the method is <c>imp</c> (<paramref name="imp"/> gives its rounds and training).</summary>
    public static PruneSummary Run(PruneOptions o, string outDir, ImpOptions? imp = null, Action<Trainer>? configure = null)
    {
        MaskBuilder.CheckSparsity(o.Prune.Sparsity);
        bool iterative = o.Prune.Method.Equals("imp", StringComparison.OrdinalIgnoreCase);
        if (iterative && imp is null) throw new InitPruneException("method 'imp' needs its rounds and training recipe (--rounds, --round-epochs, --lr)");
        imp?.Train.Validate();
        if (iterative) IterativeMagnitudePruning.CheckRounds(imp!.Rounds);
        Setup.CheckScoreBatchSize(o.ScoreBatchSize);
        var method = iterative ? "imp" : PrunerRegistry.Create(o.Prune.Method).Name;
        Setup.Check(o.Dataset, o.Model, o.Init, o.InitFrom, iterative ? o.Prune with { Method = "magnitude" } : o.Prune);
        outDir = Artifacts.PrepareOutput(outDir);
        using var data = DatasetRegistry.Load(o.Dataset, o.DataDir, (int)o.Seed);
        using var model = Setup.Model(data, o.Model, o.Init, o.Seed, o.InitFrom);
        var files = new Dictionary<string, string>();
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "initprune" };

        Safetensors.Save(Path.Combine(outDir, "weights.safetensors"), Network.StateDict(model), meta);
        files["weights"] = "weights.safetensors";
        var (x, y) = Setup.ScoringBatch(data.Train, o.ScoreBatchSize, o.Seed);
        using (x)
        using (y)
        {
            Safetensors.Save(Path.Combine(outDir, "batch.safetensors"), new Dictionary<string, Tensor> { ["inputs"] = x, ["labels"] = y }, meta);
            files["batch"] = "batch.safetensors";
            using var result = iterative
                ? IterativeMagnitudePruning.Run(model, data, imp!.Train, o.Prune with { Method = "magnitude" }, imp.Rounds, o.Seed, configure)
                : Pruner.Prune(model, o.Prune, new ScoringContext(x, y, data.Train.Kind, Seeds.For(o.Seed, "prune")));
            result.Mask.Save(Path.Combine(outDir, "mask.safetensors"), meta);
            files["mask"] = "mask.safetensors";
            Safetensors.Save(Path.Combine(outDir, "weights.pruned.safetensors"), Network.StateDict(model), meta);
            files["pruned_weights"] = "weights.pruned.safetensors";
            if (result.Rescale is { } rho)
            {
                Safetensors.Save(Path.Combine(outDir, "rescale.safetensors"), rho, meta);
                files["rescale"] = "rescale.safetensors";
            }
            if (o.SaveScores)
            {
                Safetensors.Save(Path.Combine(outDir, "scores.safetensors"), result.Scores, meta);
                files["scores"] = "scores.safetensors";
            }
            var summary = new PruneSummary(o.Dataset, data.Source, method, o.Prune.Scope == PruneScope.Global ? "global" : "layer-wise",
                o.Prune.Sparsity, result.Mask.Sparsity, result.Mask.Kept, result.Mask.Total, o.Seed, o.Model.Name, o.Init.Name,
                o.Prune.Rescale is { } r ? $"{r.Method} ({r.Target})" : null, result.Mask.MaxSparsityWithoutCollapse, result.Layers,
                result.Mask.UnitKeptFractions(), [.. result.Warnings], files);
            files["summary"] = "summary.json";
            Artifacts.WriteJson(Path.Combine(outDir, "summary.json"), summary);
            return summary;
        }
    }
}
