using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tickets;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// Where a sweep keeps its files, under an artefact folder of its own (never located by the results store's path):
/// <c>checkpoints/</c>, <c>runs/&lt;run id&gt;/</c> (final weights and masks), <c>reports/</c>, and the TensorBoard
/// logs under <paramref name="TensorBoard"/> (null: none). The default layout puts the artefact folder where the store
/// is, <c>&lt;out&gt;/</c> beside <c>&lt;out&gt;/store.sqlite</c>. A run id becomes part of a path only when it is one
/// (16 lower-case hex digits, <see cref="RunConfig.Id"/>): an id read from a damaged or hostile store is refused.
/// </summary>
public sealed record SweepFolders(string Root, string? TensorBoard = null)
{
    public string CheckpointOf(string runId) => Path.Combine(Root, "checkpoints", Checked(runId) + ".safetensors");
    public string RunFolder(string runId) => Path.Combine(Root, "runs", Checked(runId));

    /// <summary>
    /// The run's TensorBoard folder, <c>&lt;TensorBoard&gt;/&lt;name&gt;</c> (<see cref="TensorBoardName"/>); null when
    /// the sweep writes no TensorBoard logs.
    /// </summary>
    public string? TensorBoardOf(string runId, RunConfig config)
    {
        var name = TensorBoardName(runId, config);
        return TensorBoard is null ? null : Path.Combine(TensorBoard, name);
    }

    /// <summary>
    /// A readable TensorBoard run name: the method (<c>dense</c> for none), the rescaling when there is one, the
    /// sparsity and the first 8 hex digits of the run id, e.g. <c>snip-s0.9-1a2b3c4d</c>, as a safe file name.
    /// </summary>
    public static string TensorBoardName(string runId, RunConfig config)
    {
        var id = Checked(runId);
        var p = config.Prune;
        var method = p.Method == "none" ? "dense" : p.Method;
        var rescale = p.Rescale == "none" ? "" : "-" + p.Rescale;
        return FileNames.Safe(FormattableString.Invariant($"{method}{rescale}-s{p.Sparsity:R}-{id[..8]}"));
    }

    /// <summary>The run's final weights, <c>runs/&lt;run id&gt;/final.safetensors</c>.</summary>
    public string FinalWeightsOf(string runId) => Path.Combine(RunFolder(runId), "final.safetensors");

    /// <summary>Whether <paramref name="runId"/> is a run id (and so may become part of a path).</summary>
    public static bool IsRunId(string runId) => runId.Length == 16 && runId.All(char.IsAsciiHexDigitLower);

    static string Checked(string runId) => IsRunId(runId)
        ? runId
        : throw new InitPruneException($"the store holds the run id '{FileNames.Safe(runId)}', which is not a run id (16 hex digits): the store is damaged or not written by InitPrune; rerun the sweep into a new store");
}

/// <summary>How a claimed run ended.</summary>
/// <see cref="Stopped"/>: the worker was asked to stop (SIGTERM) and gave the run back after its last checkpoint.
public sealed record RunOutcome(string RunId, bool Done, string? Error, double? TestAccuracy, bool Resumed, int FromEpoch, int? FromSearchEpoch = null, bool Stopped = false)
{
    /// <summary>Where a resumed run went on: "edge-popup epoch k" inside the ticket search, else "epoch k" of training.</summary>
    public string ResumedAt => FromSearchEpoch is { } k ? $"edge-popup epoch {k}" : $"epoch {FromEpoch}";
}

/// <summary>
/// Computes one claimed run: initialize, prune (recording what pruning did), train with a checkpoint after every
/// epoch, and record the result. A run whose checkpoint exists resumes from it instead of pruning again.
/// </summary>
public sealed class RunExecutor(IResultsStore store, SweepFolders folders, RunDataCache data)
{
    /// <summary>Raised on each training step (for progress displays).</summary>
    public event Action<StepProgress>? Step;

    /// <summary>How often the claim's heartbeat is renewed while the run computes (pruning included).</summary>
    public TimeSpan HeartbeatEvery { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When cancelled (SIGTERM: Slurm's preemption or <c>scancel</c>), the run stops after the checkpoint it is working
    /// towards is in place and is given back to the store as pending, to be resumed from that checkpoint by any worker.
    /// </summary>
    public CancellationToken Stop { get; init; }

    sealed class StopRequested : Exception;

    /// <summary>Called where the checkpoint of <paramref name="epoch"/> has just been put in place: the one safe point to stop at.</summary>
    void StopPoint(int epoch)
    {
        CrashPoint.TerminateAfterCheckpoint(epoch, Stop);
        if (Stop.IsCancellationRequested) throw new StopRequested();
    }

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
        catch (StopRequested)
        {
            store.Release(claim.RunId, worker);
            return new RunOutcome(claim.RunId, false, null, null, false, 0, Stopped: true);
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
            var saved = new Checkpoints(store, id, checkpoint);
            DiscardRejected(checkpoint);
            TrainState? resume = File.Exists(checkpoint) ? saved.Resume(model) : null;
            bool resumed = resume is not null;
            int? fromSearchEpoch = null;
            if (resume is { Epoch: < 0 })
            {
                // Stopped while edge-popup searched the ticket: resume the search after its last saved epoch.
                using var ticket = Checkpoint.LoadTicket(checkpoint, id)
                    ?? throw new InitPruneException($"the checkpoint of run {id} has epoch {resume.Epoch} but no edge-popup state: it is damaged; rerun the run from scratch with sweep --retry-failed");
                fromSearchEpoch = ticket.Epoch + 1;
                FindTicket(id, c, run, model, saved, ticket);
                saved.Save(model, new TrainState(0, 0, []));
                StopPoint(0);
                resume = null;
            }
            else if (resume is null)
            {
                if (EdgePopupMethod.Is(c.Prune.Method)) FindTicket(id, c, run, model, saved, null);
                else Prune(id, c, run, model);
                saved.Save(model, new TrainState(0, 0, []));
                StopPoint(0);
            }
            int fromEpoch = (resume?.Epoch ?? 0) + 1;
            // Prune-only runs that track ‖J‖ record it at initialization (step 0): the network as pruned and rescaled.
            if (c.Train.Epochs == 0 && c.Train.JacobianEvery > 0)
            {
                using var tracker = new JacobianTracker(model, run.Split.Test, c.ToTrainConfig(), Seeds.For(c.Seed, "train"));
                store.RecordJacobian(id, tracker.Measure(model, 0, 0, null));
            }
            if (c.Train.Epochs > 0 && (resume is null || resume.Epoch < c.Train.Epochs && !(resume.Steps >= c.Train.MaxSteps)))
                Train(id, c, run, model, resume is { Epoch: 0 } ? null : resume, saved);

            // The last epoch already evaluated the final network; a prune-only run is evaluated here.
            // An edge-popup run's last search epoch evaluated the ticket (the epochs before 1 are the search's).
            var epochs = store.Epochs(id);
            var (testLoss, testAccuracy, validationAccuracy) = epochs.Count > 0 && (epochs[^1].Epoch > 0 || run.Validation is null)
                ? (epochs[^1].TestLoss, epochs[^1].TestAccuracy, epochs[^1].ValidationAccuracy)
                : Evaluate(model, run);
            WriteArtifacts(id, model);
            store.Complete(id, new RunResult(testAccuracy, testLoss, validationAccuracy, epochs.Count(e => e.Epoch > 0), epochs.Sum(e => e.Seconds),
                clock.Elapsed.TotalSeconds, EnvironmentProbe.Current()));
            File.Delete(checkpoint);
            return new RunOutcome(id, true, null, testAccuracy, resumed, fromEpoch, fromSearchEpoch);
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
        if (c.ToPreTrainConfig() is { } pre) PreTraining.Run(model, run.Split, pre, c.Seed);
        var batches = Setup.ScoringBatches(run.Split.Train, c.Prune.ScoreBatchSize, c.Prune.ScoreBatches, c.Seed);
        try
        {
            var (x, y) = batches[0];
            using var result = PrunerRegistry.Get(c.Prune.Method).Trains
                ? IterativeMagnitudePruning.Prune(model, run.Split, c.ToTrainConfig(), spec, c.Seed)
                : Pruner.Prune(model, spec, new ScoringContext(x, y, run.Split.Train.Kind, Seeds.For(c.Seed, "prune"), batches.Count == 1 ? null : batches));
            store.RecordPruning(id, new PruningRecord(result.Mask.Sparsity, result.Mask.Kept, result.Mask.Total, result.Layers,
                result.Mask.UnitKeptFractions(), [.. result.Warnings], clock.Elapsed.TotalSeconds));
        }
        finally
        {
            foreach (var (x, y) in batches)
            {
                x.Dispose();
                y.Dispose();
            }
        }
    }

    /// <summary>
    /// Raised after each edge-popup epoch's checkpoint is in place, with the epoch (1-based): a hook for tests that stop
    /// a run there (by throwing) and resume it.
    /// </summary>
    public Action<int>? TicketCheckpointed { get; init; }

    /// <summary>
    /// Edge-popup (<see cref="EdgePopupMethod"/>): searches the ticket from <paramref name="from"/> (null: from the
    /// start), recording each epoch in the store as epoch k − P − 1 (−P … −1, with its kept fraction and λ) and writing a
    /// checkpoint after it; then installs the mask (weights and biases) on the model, whose weights are the
    /// initialization (rescaled by Lemma 2 when scaled), records the pruning and writes the final scores to
    /// <c>runs/&lt;run id&gt;/scores.safetensors</c>.
    /// </summary>
    void FindTicket(string id, RunConfig c, RunData run, nn.Module<Tensor, Tensor> model, Checkpoints saved, TicketState? from)
    {
        var clock = Stopwatch.StartNew();
        var config = EdgePopupMethod.Config(c.ToPruneSpec());
        int total = config.Epochs;
        Mask mask;
        using (var popup = new EdgePopup(model, config, Seeds.For(c.Seed, "edge-popup"), from?.Scores))
        {
            if (from is not null) popup.RestoreMomentum(from.Momentum);
            popup.EpochEnd += e =>
            {
                int stored = e.Epoch - total - 1;
                long samples = run.Split.Train.Count;
                store.RecordEpoch(id, new EpochMetrics(stored, e.LearningRate, e.TrainLoss, e.TestLoss, e.TestAccuracy, e.Seconds,
                    e.Seconds > 0 ? samples / e.Seconds : 0, KeptFraction: e.KeptFraction, Lambda: e.Lambda));
                saved.Save(model, new TrainState(stored, 0, []), new TicketState(e.Epoch, e.Scale, popup.Scores.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value), popup.Momentum));
                CrashPoint.AfterCheckpoint(stored);
                TicketCheckpointed?.Invoke(e.Epoch);
                StopPoint(stored);
            };
            popup.Run(run.Split, Seeds.For(c.Seed, "train"), c.Model.Name, (from?.Epoch ?? 0) + 1, from?.Scale ?? 1);
            popup.KeptFraction = config.KeptFractionAt(total);
            mask = popup.Mask();
            var dir = folders.RunFolder(id);
            Directory.CreateDirectory(dir);
            Safetensors.Save(Path.Combine(dir, "scores.safetensors"), popup.Scores.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value),
                new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "initprune", ["run"] = id });
        }
        using (mask)
        {
            mask.ApplyTo(model);
            store.RecordPruning(id, new PruningRecord(mask.Sparsity, mask.Kept, mask.Total, mask.Report(), mask.UnitKeptFractions(), [], clock.Elapsed.TotalSeconds));
        }
    }

    void Train(string id, RunConfig c, RunData run, nn.Module<Tensor, Tensor> model, TrainState? resume, Checkpoints saved)
    {
        var trainer = new Trainer(c.ToTrainConfig(folders.TensorBoardOf(id, c))) { HParams = Reporting.RunExport.Settings(c) };
        trainer.Step += p => Step?.Invoke(p);
        trainer.EpochEnd += m => store.RecordEpoch(id, m);
        trainer.JacobianMeasured += p => store.RecordJacobian(id, p);
        trainer.StateSaved += s =>
        {
            saved.Save(model, s);
            CrashPoint.AfterCheckpoint(s.Epoch);
            // After the last epoch only the evaluation and the final files are left: finished rather than given back.
            if (s.Epoch < c.Train.Epochs) StopPoint(s.Epoch);
        };
        trainer.Train(model, run.Split, Seeds.For(c.Seed, "train"), run.Validation, resume);
    }

    /// <summary>Where a checkpoint the store did not vouch for is moved (kept for inspection until the run is computed again).</summary>
    public static string RejectedOf(string checkpoint) => Path.ChangeExtension(checkpoint, ".rejected.safetensors");

    /// <summary>A run computed again (e.g. after --retry-failed) starts from scratch: the checkpoint it refused is discarded.</summary>
    static void DiscardRejected(string checkpoint) => File.Delete(RejectedOf(checkpoint));

    /// <summary>
    /// A run's checkpoint file and the store's record of it. Each save writes the file under a temporary name, records
    /// its hash beside the current checkpoint's, then renames it into place; so the file in place always matches a
    /// record, whenever the process dies (one store write per epoch). Resuming hashes the file and checks it and its
    /// metadata (run, epoch, steps) against the records, so a changed or replaced checkpoint is refused.
    /// </summary>
    sealed class Checkpoints(IResultsStore store, string id, string path)
    {
        CheckpointRecord? current;

        public void Save(nn.Module model, TrainState state, TicketState? ticket = null)
        {
            var staging = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
            try
            {
                Checkpoint.Save(staging, id, model, state, ticket);
                var next = new CheckpointRecord(state.Epoch, state.Steps, Checkpoint.Sha256(staging));
                store.RecordCheckpoints(id, current is null ? [next] : [current, next]);
                File.Move(staging, path, overwrite: true);
                current = next;
            }
            finally
            {
                File.Delete(staging);
            }
        }

        /// <summary>Restores the checkpoint into <paramref name="model"/>; refuses (and sets it aside) when the store does not vouch for it.</summary>
        public TrainState Resume(nn.Module model)
        {
            var sha = Checkpoint.Sha256(path);
            var known = store.Checkpoints(id);
            var record = known.FirstOrDefault(r => r.Sha256 == sha)
                ?? throw Reject(known.Count == 0
                    ? "the results store has no record of a checkpoint for this run"
                    : $"its SHA-256 {sha[..16]}… is not the {string.Join(" or ", known.Select(r => $"{r.Sha256[..16]}… (epoch {r.Epoch})"))} the results store recorded");
            var state = Checkpoint.Load(path, id, model);
            if (state.Epoch != record.Epoch || state.Steps != record.Steps)
                throw Reject($"its metadata says epoch {state.Epoch}, step {state.Steps} but the results store recorded epoch {record.Epoch}, step {record.Steps}");
            current = record;
            return state;
        }

        InitPruneException Reject(string why)
        {
            File.Move(path, RejectedOf(path), overwrite: true);
            return new InitPruneException($"the checkpoint of run {id} was changed or replaced since it was saved ({why}), so it was set aside as {Path.GetFileName(RejectedOf(path))}: " +
                "rerun this run from scratch with sweep --retry-failed");
        }
    }

    void WriteArtifacts(string id, nn.Module model)
    {
        var dir = folders.RunFolder(id);
        Directory.CreateDirectory(dir);
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "initprune", ["run"] = id };
        Safetensors.Save(folders.FinalWeightsOf(id), Network.FullStateDict(model), meta);
        var masks = Network.Masked(model).ToDictionary(t => t.Name, t => t.Mask!.ne(0));
        if (masks.Count > 0) Safetensors.Save(Path.Combine(dir, "mask.safetensors"), masks, meta);
        foreach (var m in masks.Values) m.Dispose();
    }
}

/// <summary>
/// A crash at a point tests choose: with <c>INITPRUNE_KILL_AFTER_EPOCH=N</c> a sweep worker kills itself (SIGKILL,
/// no clean-up) right after writing a run's checkpoint of epoch N, as a power cut or the OOM killer would (N ≤ −1: an
/// edge-popup epoch, numbered as the store numbers them).
/// </summary>
public static class CrashPoint
{
    public const string Variable = "INITPRUNE_KILL_AFTER_EPOCH";

    internal static void AfterCheckpoint(int epoch)
    {
        if (Environment.GetEnvironmentVariable(Variable) is { } text && int.TryParse(text, out int n) && n == epoch)
            Process.GetCurrentProcess().Kill();
    }

    /// <summary>With this variable set to k, the process sends itself SIGTERM after the checkpoint of epoch k (as Slurm's preemption would).</summary>
    public const string TermVariable = "INITPRUNE_TERM_AFTER_EPOCH";

    /// <summary>Sends SIGTERM and waits until the signal handler has asked the run to stop, so the test knows where it stops.</summary>
    internal static void TerminateAfterCheckpoint(int epoch, CancellationToken stop)
    {
        if (Environment.GetEnvironmentVariable(TermVariable) is { } text && int.TryParse(text, out int n) && n == epoch && Signals.Terminate(Environment.ProcessId))
            stop.WaitHandle.WaitOne(TimeSpan.FromMinutes(1));
    }
}
