using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tickets;
using InitPrune.Training;

namespace InitPrune.Experiments;

/// <summary>Everything <c>initprune ticket</c> takes.</summary>
public sealed record TicketOptions(
    string Dataset,
    ModelSpec Model,
    InitSpec Init,
    EdgePopupConfig EdgePopup,
    long Seed = 0,
    string? DataDir = null,
    string? InitFrom = null,
    string? TensorBoardDir = null);

/// <summary>What <c>initprune ticket</c> reports (summary.json). Sparsity is InitPrune's (removed); KeptFraction is seed 004's ρ = 1 − sparsity.</summary>
public sealed record TicketSummary(
    string Dataset,
    string DataSource,
    string Model,
    string Init,
    long Seed,
    double Sparsity,
    double KeptFraction,
    string Scope,
    string BiasRanking,
    bool Scaled,
    double Scale,
    long KeptWeights,
    long TotalWeights,
    long KeptBiases,
    long TotalBiases,
    double FinalTrainLoss,
    double FinalTestLoss,
    double? FinalTestAccuracy,
    IReadOnlyList<TicketEpoch> Epochs,
    IReadOnlyList<LayerReport> Layers,
    IReadOnlyDictionary<string, string> Files);

/// <summary>
/// Build and initialize a network, find a strong ticket in it with edge-popup (<see cref="EdgePopup"/>), and write the
/// mask (weights and biases), the network's weights (its initialization, rescaled by Lemma 2 when scaled: with the mask
/// they are the ticket), the final scores and summary.json.
/// </summary>
public static class TicketJob
{
    /// <param name="epochEnd">Called after every epoch (e.g. to print it).</param>
    public static TicketSummary Run(TicketOptions o, string outDir, Action<TicketEpoch>? epochEnd = null)
    {
        o.EdgePopup.Validate();
        Setup.Check(o.Dataset, o.Model, o.Init, o.InitFrom);
        outDir = Artifacts.PrepareOutput(outDir);
        if (o.TensorBoardDir is { } boardDir) Artifacts.PrepareOutput(boardDir, "--tensorboard");
        using var data = DatasetRegistry.Load(o.Dataset, o.DataDir, (int)o.Seed);
        using var model = Setup.Model(data, o.Model, o.Init, o.Seed, o.InitFrom);
        using var board = o.TensorBoardDir is { } dir ? new TensorBoardWriter(dir) : null;
        List<TicketEpoch> history;
        TensorDict scores;
        Mask mask;
        using (var popup = new EdgePopup(model, o.EdgePopup, Seeds.For(o.Seed, "edge-popup")))
        {
            if (board is not null) popup.EpochEnd += e => Log(board, e);
            if (epochEnd is not null) popup.EpochEnd += epochEnd;
            history = popup.Run(data, Seeds.For(o.Seed, "train"), o.Model.Name);
            scores = TensorDict.CloneOf(popup.Scores.Select(kv => KeyValuePair.Create(kv.Key, (TorchSharp.torch.Tensor)kv.Value)));
            mask = popup.Mask();
        }
        using (scores)
        using (mask)
        {
            var meta = new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "initprune" };
            var files = new Dictionary<string, string>
            {
                ["weights"] = TensorFile.Save(outDir, "weights", Network.FullStateDict(model), SaveFormat.Safetensors, meta),
                ["mask"] = mask.Save(outDir, "mask", SaveFormat.Safetensors, meta),
                ["scores"] = TensorFile.Save(outDir, "scores", scores, SaveFormat.Safetensors, meta),
                ["summary"] = "summary.json",
            };
            var layers = mask.Report();
            var biasNames = Network.Prunable(model, includeBiases: true).Where(t => t.IsBias).Select(t => t.Name).ToHashSet();
            var last = history[^1];
            var c = o.EdgePopup;
            var summary = new TicketSummary(o.Dataset, data.Source, o.Model.Name, o.Init.Name, o.Seed, c.Sparsity, c.KeptFraction,
                c.Scope == PruneScope.Global ? "global" : "layer-wise", c.Biases == BiasRanking.Joint ? "joint" : "separate", c.Scaled, last.Scale,
                layers.Where(l => !biasNames.Contains(l.Name)).Sum(l => l.Kept), layers.Where(l => !biasNames.Contains(l.Name)).Sum(l => l.Total),
                layers.Where(l => biasNames.Contains(l.Name)).Sum(l => l.Kept), layers.Where(l => biasNames.Contains(l.Name)).Sum(l => l.Total),
                last.TrainLoss, last.TestLoss, last.TestAccuracy, history, layers, files);
            Artifacts.WriteJson(Path.Combine(outDir, "summary.json"), summary);
            return summary;
        }
    }

    /// <summary>
    /// The epoch's scalars, step = epoch: <c>ticket/kept_fraction</c> (ρ_i), <c>ticket/lambda</c> (λ fitted after it, 1
    /// unscaled), <c>ticket/scale</c> (their product so far), <c>train/loss</c>, <c>test/loss</c>, <c>test/accuracy</c>
    /// (classification) and <c>lr</c>, the tags training uses where they mean the same.
    /// </summary>
    static void Log(TensorBoardWriter board, TicketEpoch e)
    {
        board.AddScalar("ticket/kept_fraction", e.KeptFraction, e.Epoch);
        board.AddScalar("ticket/lambda", e.Lambda, e.Epoch);
        board.AddScalar("ticket/scale", e.Scale, e.Epoch);
        board.AddScalar("train/loss", e.TrainLoss, e.Epoch);
        board.AddScalar("test/loss", e.TestLoss, e.Epoch);
        if (e.TestAccuracy is { } a) board.AddScalar("test/accuracy", a, e.Epoch);
        board.AddScalar("lr", e.LearningRate, e.Epoch);
    }
}
