using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Experiments.Sweeps;

/// <summary>Where a sweep keeps files beside its store: checkpoints, final weights and masks, TensorBoard logs.</summary>
public sealed record SweepFolders(string Root)
{
    public string CheckpointOf(string runId) => Path.Combine(Root, "checkpoints", runId + ".safetensors");
    public string RunFolder(string runId) => Path.Combine(Root, "runs", runId);
    public string TensorBoardOf(string runId) => Path.Combine(Root, "tensorboard", runId);
}

/// <summary>How a claimed run ended.</summary>
public sealed record RunOutcome(string RunId, bool Done, string? Error, double? TestAccuracy, bool Resumed, int FromEpoch);

/// <summary>
/// Computes one claimed run: initialize, prune (recording what pruning did), train with a checkpoint after every
/// epoch, and record the result. A run whose checkpoint exists resumes from it instead of pruning again.
/// </summary>
public sealed class RunExecutor(IResultsStore store, SweepFolders folders, RunDataCache data, bool tensorBoard = false)
{
    /// <summary>Raised on each training step (for progress displays).</summary>
    public event Action<StepProgress>? Step;

    /// <summary>How often the claim's heartbeat is renewed while the run computes (pruning included).</summary>
    public TimeSpan HeartbeatEvery { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="claim"/> to the end. Bad settings and divergence mark the run failed (with a one-line
    /// reason) and return normally, so a sweep goes on with its other runs.
    /// </summary>
    public RunOutcome Execute(RunClaim claim, WorkerInfo worker)
    {
        var heartbeat = new Timer(_ => Beat(claim.RunId, worker), null, HeartbeatEvery, HeartbeatEvery);
        try
        {
            return Compute(claim);
        }
        finally
        {
            using var stopped = new ManualResetEvent(false);
            if (heartbeat.Dispose(stopped)) stopped.WaitOne();
        }
    }

    RunOutcome Compute(RunClaim claim)
    {
        var clock = Stopwatch.StartNew();
        var c = claim.Config;
        string id = claim.RunId;
        try
        {
            var run = data.Get(c.Data);
            var checkpoint = folders.CheckpointOf(id);
            Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
            using var model = Setup.Model(run.Split, c.ToModelSpec(), c.ToInitSpec(), c.Seed);
            TrainState? resume = File.Exists(checkpoint) ? Checkpoint.Load(checkpoint, id, model) : null;
            if (resume is null)
            {
                Prune(id, c, run, model);
                Checkpoint.Save(checkpoint, id, model, new TrainState(0, 0, []));
            }
            int fromEpoch = (resume?.Epoch ?? 0) + 1;
            if (c.Train.Epochs > 0 && (resume is null || resume.Epoch < c.Train.Epochs && !(resume.Steps >= c.Train.MaxSteps)))
                Train(id, c, run, model, resume is { Epoch: 0 } ? null : resume, checkpoint);

            // The last epoch already evaluated the final network; a prune-only run is evaluated here.
            var epochs = store.Epochs(id);
            var (testLoss, testAccuracy, validationAccuracy) = epochs.Count > 0
                ? (epochs[^1].TestLoss, epochs[^1].TestAccuracy, epochs[^1].ValidationAccuracy)
                : Evaluate(model, run);
            WriteArtifacts(id, model);
            store.Complete(id, new RunResult(testAccuracy, testLoss, validationAccuracy, epochs.Count, epochs.Sum(e => e.Seconds),
                clock.Elapsed.TotalSeconds, EnvironmentProbe.Current()));
            File.Delete(checkpoint);
            return new RunOutcome(id, true, null, testAccuracy, resume is not null, fromEpoch);
        }
        catch (InitPruneException e)
        {
            store.Fail(id, e.Message);
            return new RunOutcome(id, false, e.Message, null, false, 0);
        }
        catch (Exception e) when (Memory.IsOutOfMemory(e))
        {
            var reason = $"out of memory: {Memory.OutOfMemoryLine(e)}; use a smaller model or batch";
            store.Fail(id, reason);
            return new RunOutcome(id, false, reason, null, false, 0);
        }
    }

    /// <summary>
    /// Renews the claim from a timer thread, so a long pruning (SynFlow on VGG) or a slow epoch never looks dead to
    /// workers on other machines. A failed renewal is retried at the next beat; the run's own writes report store errors.
    /// </summary>
    void Beat(string id, WorkerInfo worker)
    {
        try
        {
            store.Heartbeat(id, worker);
        }
        catch (Exception)
        {
        }
    }

    static (double Loss, double? Accuracy, double? ValidationAccuracy) Evaluate(nn.Module<Tensor, Tensor> model, RunData run)
    {
        var (loss, accuracy) = Trainer.Evaluate(model, run.Split.Test);
        return (loss, accuracy, run.Validation is null ? null : Trainer.Evaluate(model, run.Validation).Accuracy);
    }

    void Prune(string id, RunConfig c, RunData run, nn.Module<Tensor, Tensor> model)
    {
        var clock = Stopwatch.StartNew();
        if (c.Prune.Method == "none")
        {
            var dense = Network.Prunable(model).Select(t => new LayerReport(t.Name, t.Count, t.Count)).ToList();
            long total = dense.Sum(l => l.Total);
            store.RecordPruning(id, new PruningRecord(0, total, total, dense, new Dictionary<string, double[]>(), [], clock.Elapsed.TotalSeconds));
            return;
        }
        var spec = c.ToPruneSpec();
        var (x, y) = Setup.ScoringBatch(run.Split.Train, c.Prune.ScoreBatchSize, c.Seed);
        using (x)
        using (y)
        {
            using var result = c.Prune.Method == "imp"
                ? IterativeMagnitudePruning.Run(model, run.Split, c.ToTrainConfig() with { Epochs = c.Prune.RoundEpochs, MaxSteps = null, Schedule = "cosine", Milestones = null },
                    spec with { Method = "magnitude" }, c.Prune.Rounds, c.Seed)
                : Pruner.Prune(model, spec, new ScoringContext(x, y, run.Split.Train.Kind, Seeds.For(c.Seed, "prune")));
            store.RecordPruning(id, new PruningRecord(result.Mask.Sparsity, result.Mask.Kept, result.Mask.Total, result.Layers,
                result.Mask.UnitKeptFractions(), [.. result.Warnings], clock.Elapsed.TotalSeconds));
        }
    }

    void Train(string id, RunConfig c, RunData run, nn.Module<Tensor, Tensor> model, TrainState? resume, string checkpoint)
    {
        var trainer = new Trainer(c.ToTrainConfig(tensorBoard ? folders.TensorBoardOf(id) : null));
        trainer.Step += p => Step?.Invoke(p);
        trainer.EpochEnd += m => store.RecordEpoch(id, m);
        trainer.StateSaved += s => Checkpoint.Save(checkpoint, id, model, s);
        trainer.Train(model, run.Split, Seeds.For(c.Seed, "train"), run.Validation, resume);
    }

    void WriteArtifacts(string id, nn.Module model)
    {
        var dir = folders.RunFolder(id);
        Directory.CreateDirectory(dir);
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "initprune", ["run"] = id };
        Safetensors.Save(Path.Combine(dir, "final.safetensors"), Network.StateDict(model), meta);
        var masks = Network.Prunable(model).Where(t => t.Mask is not null).ToDictionary(t => t.Name, t => t.Mask!.ne(0));
        if (masks.Count > 0) Safetensors.Save(Path.Combine(dir, "mask.safetensors"), masks, meta);
        foreach (var m in masks.Values) m.Dispose();
    }
}
