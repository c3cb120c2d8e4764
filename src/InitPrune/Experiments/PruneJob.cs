using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tickets;
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
    bool SaveScores = false,
    TrainConfig? Train = null,
    TrainConfig? PreTrain = null,
    int ScoreBatches = 1,
    SaveFormat SaveFormat = SaveFormat.Safetensors);

/// <summary>
/// What <c>initprune prune</c> reports (summary.json). <see cref="Settings"/> holds every option of the prune
/// section (<see cref="PruneSettings"/>, as spec fields) and the method's options: how the mask was made.
/// <see cref="Flops"/>: multiply-accumulates and memory traffic per sample, dense and kept (<see cref="FlopCount"/>;
/// null for edge-popup, whose summary is the ticket's).
/// </summary>
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
    IReadOnlyDictionary<string, object?> Settings,
    double MaxSparsityWithoutCollapse,
    IReadOnlyList<LayerReport> Layers,
    IReadOnlyDictionary<string, double[]> UnitKeptFractions,
    IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, string> Files,
    FlopReport? Flops = null);

/// <summary>Build, initialize, prune once, and write the weights, scoring batch, mask (and scores) to a folder.</summary>
public static class PruneJob
{
    /// <summary>
    /// One-shot pruning, or a method that trains (IMP): its rounds train with <see cref="PruneOptions.Train"/> (default:
    /// the default recipe) as <see cref="IterativeMagnitudePruning.RoundRecipe"/> says, exactly as a sweep's IMP run does.
    /// With <see cref="PruneOptions.PreTrain"/> the network first trains with that recipe and is pruned trained
    /// (weights.safetensors stays θ₀; weights.pruned.safetensors holds the trained weights ⊙ mask).
    /// </summary>
    /// <param name="ticketEpoch">Called after every edge-popup epoch (methods edge-popup and edge-popup-scaled).</param>
    public static PruneSummary Run(PruneOptions o, string outDir, Action<Trainer>? configure = null, Action<TicketEpoch>? ticketEpoch = null)
    {
        MaskBuilder.CheckSparsity(o.Prune.Sparsity);
        var info = PrunerRegistry.Get(o.Prune.Method);
        if (EdgePopupMethod.Is(info.Name)) return Ticket(o, outDir, ticketEpoch);
        var options = o.Prune.Options ?? MethodOptions.Default;
        options.Validate(info);
        o.PreTrain?.Validate();
        Pruner.CheckAblation(info, o.Prune);
        if (info.Trains) IterativeMagnitudePruning.RoundRecipe(o.Train ?? new TrainConfig(), options.Integer(IterativeMagnitudePruning.RoundEpochs)).Validate();
        var oneShot = info.Trains ? o.Prune with { Method = MagnitudeScorer.Info.Name, Options = null } : o.Prune;
        Setup.CheckScoreBatchSize(o.ScoreBatchSize);
        var method = info.Name;
        Setup.Check(o.Dataset, o.Model, o.Init, o.InitFrom, oneShot);
        outDir = Artifacts.PrepareOutput(outDir);
        using var data = DatasetRegistry.Load(o.Dataset, o.DataDir, (int)o.Seed);
        using var model = Setup.Model(data, o.Model, o.Init, o.Seed, o.InitFrom);
        var files = new Dictionary<string, string>();
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "initprune" };

        var format = o.SaveFormat;
        files["weights"] = TensorFile.Save(outDir, "weights", Network.FullStateDict(model), format, meta);
        var batches = Setup.ScoringBatches(data.Train, o.ScoreBatchSize, o.ScoreBatches, o.Seed);
        var (x, y) = batches[0];
        try
        {
            // Several batches are written one after the other (batch b is rows b·size to (b+1)·size − 1).
            using (var all = NewDisposeScope())
                files["batch"] = TensorFile.Save(outDir, "batch", new Dictionary<string, Tensor>
                {
                    ["inputs"] = batches.Count == 1 ? x : cat(batches.Select(b => b.X).ToArray()),
                    ["labels"] = batches.Count == 1 ? y : cat(batches.Select(b => b.Y).ToArray()),
                }, format, meta);
            if (o.PreTrain is { } pre) PreTraining.Run(model, data, pre, o.Seed, configure);
            using var result = info.Trains
                ? IterativeMagnitudePruning.Prune(model, data, o.Train ?? new TrainConfig(), o.Prune, o.Seed, configure)
                : Pruner.Prune(model, o.Prune, new ScoringContext(x, y, data.Train.Kind, Seeds.For(o.Seed, "prune"), batches.Count == 1 ? null : batches));
            files["mask"] = result.Mask.Save(outDir, "mask", format, meta);
            files["pruned_weights"] = TensorFile.Save(outDir, "weights.pruned", Network.FullStateDict(model), format, meta);
            if (result.Rescale is { } rho) files["rescale"] = TensorFile.Save(outDir, "rescale", rho, format, meta);
            if (o.SaveScores) files["scores"] = TensorFile.Save(outDir, "scores", result.Scores, format, meta);
            var summary = new PruneSummary(o.Dataset, data.Source, method, o.Prune.Scope == PruneScope.Global ? "global" : "layer-wise",
                o.Prune.Sparsity, result.Mask.Sparsity, result.Mask.Kept, result.Mask.Total, o.Seed, o.Model.Name, o.Init.Name,
                o.Prune.Rescale is { } r ? $"{r.Method} ({r.Target})" : null, Settings(o),
                result.Mask.MaxSparsityWithoutCollapse, result.Layers,
                result.Mask.UnitKeptFractions(), [.. result.Warnings], files, FlopCount.Count(model, data.Train.SampleShape));
            foreach (var (key, file) in Reporting.PrunePlots.Write(result.Layers, summary.UnitKeptFractions, outDir, $"{method}, sparsity {o.Prune.Sparsity.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)}, {o.Model.Name}"))
                files[key] = file;
            files["summary"] = "summary.json";
            Artifacts.WriteJson(Path.Combine(outDir, "summary.json"), summary);
            return summary;
        }
        finally
        {
            foreach (var (bx, by) in batches)
            {
                bx.Dispose();
                by.Dispose();
            }
        }
    }

    /// <summary>
    /// Edge-popup (<see cref="EdgePopupMethod"/>): exactly <see cref="TicketJob.Run"/> with the options of the spec, so
    /// the folder holds what <c>initprune ticket</c> writes (mask, weights, scores, summary.json as a ticket summary).
    /// </summary>
    static PruneSummary Ticket(PruneOptions o, string outDir, Action<TicketEpoch>? epochEnd = null)
    {
        var info = PrunerRegistry.Get(o.Prune.Method);
        Pruner.CheckAblation(info, o.Prune);
        Pruner.CheckBatchNorm(info, o.Prune);
        if (o.PreTrain is not null)
            throw new InitPruneException("--pre-epochs does not apply to edge-popup: it finds a ticket in the network at initialization");
        var config = EdgePopupMethod.Config(o.Prune);
        var t = TicketJob.Run(new TicketOptions(o.Dataset, o.Model, o.Init, config, o.Seed, o.DataDir, o.InitFrom), outDir, epochEnd);
        long kept = t.KeptWeights + t.KeptBiases, total = t.TotalWeights + t.TotalBiases;
        return new PruneSummary(o.Dataset, t.DataSource, info.Name, t.Scope, o.Prune.Sparsity, 1 - (double)kept / total, kept, total, o.Seed,
            o.Model.Name, o.Init.Name, null, Settings(o), 1 - (double)t.Layers.Count / total, t.Layers, new Dictionary<string, double[]>(), [], t.Files);
    }

    /// <summary>The prune section's options as spec fields, the method's options, and pre_epochs (with its recipe when > 0).</summary>
    static Dictionary<string, object?> Settings(PruneOptions o)
    {
        var settings = PruneSettings.FromSpec(o.Prune, o.ScoreBatchSize, o.ScoreBatches, o.Init).Declared();
        settings["pre_epochs"] = o.PreTrain?.Epochs ?? 0;
        if (o.PreTrain is { } pre) settings["pre_train"] = pre;
        return settings;
    }
}
