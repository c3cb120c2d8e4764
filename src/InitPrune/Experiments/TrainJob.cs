using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;

namespace InitPrune.Experiments;

/// <summary>Everything <c>initprune train</c> takes.</summary>
public sealed record TrainOptions(
    string Dataset,
    ModelSpec Model,
    InitSpec Init,
    TrainConfig Train,
    long Seed = 0,
    string? DataDir = null,
    string? InitFrom = null,
    string? MaskPath = null,
    string? FixedMultiplierPath = null,
    SaveFormat SaveFormat = SaveFormat.Safetensors);

/// <summary>
/// What <c>initprune train</c> reports (metrics.json, rewritten after every epoch); <paramref name="Jacobian"/> holds the
/// recorded ‖J‖ series with <c>--jacobian-every</c> (null, left out of the file, without it).
/// </summary>
public sealed record TrainSummary(
    string Dataset,
    string DataSource,
    long Seed,
    double Sparsity,
    bool Completed,
    IReadOnlyList<EpochMetrics> Epochs,
    double? FinalTestAccuracy,
    double FinalTestLoss,
    IReadOnlyList<JacobianPoint>? Jacobian = null);

/// <summary>
/// Build, initialize, optionally apply a mask, train, and write metrics and final weights. The outputs stay consistent:
/// final.safetensors exists only beside a metrics.json of the same run that says <c>"completed": true</c>. A previous
/// run's final.safetensors in the folder is removed once this run's first metrics.json is written (before training),
/// the weights are written (atomically) before the completed metrics, and when that last write fails the new weights
/// are removed again, so a failed write never leaves weights that the metrics do not vouch for.
/// </summary>
public static class TrainJob
{
    public const string MetricsFile = "metrics.json";
    public const string FinalFile = "final.safetensors";
    public const string FinalStem = "final";

    /// <param name="writing">Called with each output's path just before it is written (a test's failure point).</param>
    public static TrainSummary Run(TrainOptions o, string outDir, Action<Trainer>? configure = null, Action<string>? writing = null)
    {
        o.Train.Validate();
        Setup.Check(o.Dataset, o.Model, o.Init, o.InitFrom);
        foreach (var file in new[] { o.MaskPath, o.FixedMultiplierPath }.OfType<string>()) TensorFile.RequireFile(file);
        outDir = Artifacts.PrepareOutput(outDir);
        if (o.Train.TensorBoardDir is { } board) Artifacts.PrepareOutput(board, "--tensorboard");
        using var data = DatasetRegistry.Load(o.Dataset, o.DataDir, (int)o.Seed);
        data.Train.RequireSamples("training");
        data.Test.RequireSamples("test");
        using var model = Setup.Model(data, o.Model, o.Init, o.Seed, o.InitFrom);
        double sparsity = 0;
        // Without --mask, the masks an --init-from file carries (torch.nn.utils.prune, Synaptic-Flow) prune the model.
        using (var mask = o.MaskPath is not null ? Mask.Load(o.MaskPath) : o.InitFrom is not null ? Mask.Embedded(o.InitFrom) : null)
        {
            mask?.ApplyTo(model);
            sparsity = mask?.Sparsity ?? 0;
        }
        if (o.FixedMultiplierPath is not null) UseFixedMultipliers(model, o.FixedMultiplierPath);
        var trainer = new Trainer(o.Train)
        {
            HParams =
            [
                new("data.name", o.Dataset), new("model.name", o.Model.Name), new("init.name", o.Init.Name), new("seed", o.Seed),
                new("prune.sparsity", sparsity), new("mask", o.MaskPath is null ? null : Path.GetFileName(o.MaskPath)), .. Trainer.RecipeHParams(o.Train),
            ],
        };
        configure?.Invoke(trainer);
        var epochs = new List<EpochMetrics>();
        List<JacobianPoint>? jacobian = o.Train.JacobianEvery > 0 ? [] : null;
        trainer.JacobianMeasured += p => jacobian!.Add(p);
        var metricsPath = Path.Combine(outDir, MetricsFile);
        var finalPath = Path.Combine(outDir, FinalStem + CheckpointFormat.Extension(o.SaveFormat));
        void WriteMetrics(bool completed)
        {
            writing?.Invoke(metricsPath);
            Artifacts.WriteJson(metricsPath, Summary(o, data, sparsity, epochs, completed, jacobian));
        }

        WriteMetrics(completed: false);
        foreach (var format in Enum.GetValues<SaveFormat>()) File.Delete(Path.Combine(outDir, FinalStem + CheckpointFormat.Extension(format)));
        trainer.EpochEnd += m =>
        {
            epochs.Add(m);
            WriteMetrics(completed: false);
        };
        trainer.Train(model, data, Seeds.For(o.Seed, "train"));
        writing?.Invoke(finalPath);
        TensorFile.SaveAs(finalPath, Network.FullStateDict(model), o.SaveFormat, new Dictionary<string, string> { ["format"] = "pt" });
        try
        {
            WriteMetrics(completed: true);
        }
        catch
        {
            File.Delete(finalPath);
            throw;
        }
        return Summary(o, data, sparsity, epochs, completed: true, jacobian);
    }

    /// <summary>Trains as if the factors ρ in the file (rescale.safetensors from prune) were fixed multipliers of the (already folded) weights.</summary>
    static void UseFixedMultipliers(TorchSharp.torch.nn.Module model, string path)
    {
        using var rho = TensorFile.Load(path);
        var targets = Network.Prunable(model).ToDictionary(t => t.Name);
        foreach (var (name, factor) in rho)
        {
            if (!targets.TryGetValue(name, out var t) || !factor.shape.SequenceEqual(t.Value.shape))
                throw new InitPruneException($"{path}: '{name}' is not a prunable weight of this model with that shape: was it written for another model?");
            Rescaler.UseFixedMultiplier(t, factor);
        }
    }

    static TrainSummary Summary(TrainOptions o, DatasetSplit data, double sparsity, List<EpochMetrics> epochs, bool completed, List<JacobianPoint>? jacobian) =>
        new(o.Dataset, data.Source, o.Seed, sparsity, completed, [.. epochs], epochs.LastOrDefault()?.TestAccuracy, epochs.LastOrDefault()?.TestLoss ?? double.NaN,
            jacobian is null ? null : [.. jacobian]);
}
