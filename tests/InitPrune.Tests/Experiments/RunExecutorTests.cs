using System.Reflection;
using System.Runtime.ExceptionServices;
using InitPrune.Experiments.Sweeps;
using InitPrune.IO;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>A run computed in one go equals, bit for bit, the same run interrupted after an epoch and resumed from its checkpoint.</summary>
public class RunExecutorTests
{
    sealed class Crash : Exception;

    static RunConfig Config(string method = "snip", double sparsity = 0.5, string rescale = "none") => new(
        new DataSettings("ellipse", TrainSubset: 2000, TestSubset: 500, Validation: 200),
        new ModelSettings("mlp", 2, 32, "tanh"),
        new InitSettings("normal", 1.2, 0.1),
        new PruneSettings(method, sparsity, Rescale: rescale),
        new TrainSettings(Lr: 0.05, Momentum: 0.9, WeightDecay: 1e-4, Schedule: "step", Milestones: [0.5, 0.75], Epochs: 4, BatchSize: 50),
        Seed: 3);

    static SweepEntry Entry(RunConfig c) => new(c, "test", new Dictionary<string, string> { ["label"] = "test" });

    static SweepInfo Info => new("t@full", "", "", new ReportLayout(), [], "");

    static (StoredRun Run, InitPrune.Engine.TensorDict Final) Compute(string dir, RunConfig c, int? crashAtEpoch)
    {
        var folders = new SweepFolders(dir);
        using (var store = SqliteResultsStore.Open(Path.Combine(dir, "store.sqlite")))
        using (var data = new RunDataCache(null))
        {
            store.Register(Info, [Entry(c)]);
            var dead = new WorkerInfo("elsewhere", 1, 1);
            var claim = store.Claim(Info.Key, dead, SweepOptions.DefaultLease)!;
            var executor = new RunExecutor(store, folders, data);
            if (crashAtEpoch is { } e) executor.Step += p => { if (p.Epoch == e && p.Step == 3) throw new Crash(); };
            if (crashAtEpoch is not null)
            {
                Assert.Throws<Crash>(() => executor.Execute(claim, dead));
                Assert.True(File.Exists(folders.CheckpointOf(c.Id)));
                var again = store.Claim(Info.Key, WorkerInfo.Current, TimeSpan.Zero)!;
                Assert.Equal(2, again.Attempt);
                var resumed = new RunExecutor(store, folders, data).Execute(again, WorkerInfo.Current);
                Assert.True(resumed.Resumed);
                Assert.Equal(crashAtEpoch, resumed.FromEpoch);
            }
            else
            {
                Assert.True(executor.Execute(claim, dead).Done);
            }
            Assert.False(File.Exists(folders.CheckpointOf(c.Id)));
            var run = Assert.Single(store.Load());
            return (run, Safetensors.Load(Path.Combine(folders.RunFolder(c.Id), "final.safetensors")));
        }
    }

    [Theory]
    [InlineData(1, "snip", "none")]
    [InlineData(3, "snip", "eoc-fixed")]
    [InlineData(2, "none", "none")]
    public void Resuming_from_a_checkpoint_gives_the_uninterrupted_result_bit_for_bit(int crashAtEpoch, string method, string rescale)
    {
        var c = Config(method, method == "none" ? 0 : 0.5, rescale);
        using var a = new TempDir();
        using var b = new TempDir();
        var (straight, wa) = Compute(a.Path, c, null);
        var (resumed, wb) = Compute(b.Path, c, crashAtEpoch);

        Assert.Equal(RunStatus.Done, resumed.Status);
        Assert.Equal(2, resumed.Attempts);
        Assert.Equal(straight.Epochs.Select(e => e.Epoch), resumed.Epochs.Select(e => e.Epoch));
        Assert.Equal(straight.Epochs.Select(e => e.TrainLoss), resumed.Epochs.Select(e => e.TrainLoss));
        Assert.Equal(straight.Epochs.Select(e => e.ValidationAccuracy), resumed.Epochs.Select(e => e.ValidationAccuracy));
        Assert.Equal(straight.Result!.TestAccuracy, resumed.Result!.TestAccuracy);
        Assert.Equal(wa.Keys.Order(), wb.Keys.Order());
        foreach (var (name, t) in wa) Assert.True(TestNets.Same(t, wb[name]), name);
        Assert.Equal(straight.Pruning!.Kept, resumed.Pruning!.Kept);
    }

    /// <summary>
    /// ‖J‖ tracked every 7 steps: a run stopped in the middle of epoch 2 (after some of that epoch's points were stored)
    /// and resumed from its epoch-1 checkpoint records the same series, bit for bit, as a straight run.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void A_resumed_run_records_the_same_jacobian_series_as_a_straight_run(int crashAtEpoch)
    {
        var c = Config() with { Train = Config().Train with { JacobianEvery = 7, JacobianInputs = 2 } };
        using var a = new TempDir();
        using var b = new TempDir();
        var (straight, _) = Compute(a.Path, c, null);
        var (resumed, _) = Compute(b.Path, c, crashAtEpoch);

        // 1800 training samples in batches of 50: 36 steps per epoch, 144 in 4 epochs.
        Assert.Equal(Enumerable.Range(0, 144 / 7 + 1).Select(k => 7L * k), straight.JacobianSeries.Select(p => p.Step));
        Assert.Equal(straight.JacobianSeries, resumed.JacobianSeries);
        Assert.Equal(straight.Epochs.Select(e => e.TrainLoss), resumed.Epochs.Select(e => e.TrainLoss));
    }

    /// <summary>A run without training (train.epochs 0) that tracks ‖J‖ records step 0 alone: the network as initialized.</summary>
    [Fact]
    public void An_untrained_run_records_the_jacobian_at_step_0_only()
    {
        var c = Config("none", 0) with { Train = new TrainSettings(Epochs: 0, JacobianEvery: 1, JacobianInputs: 2) };
        using var a = new TempDir();
        var (run, final) = Compute(a.Path, c, null);
        var point = Assert.Single(run.JacobianSeries);
        Assert.Equal((0L, 0, (double?)null), (point.Step, point.Epoch, point.TrainLoss));
        Assert.Empty(run.Epochs);

        // The same measurement on the final (untrained) weights, loaded into a network of another seed.
        using var data = new RunDataCache(null);
        var split = data.Get(c.Data).Split;
        using var model = InitPrune.Experiments.Setup.Model(split, c.ToModelSpec(), c.ToInitSpec(), 99);
        InitPrune.Models.Network.LoadStateDict(model, final, "final.safetensors");
        using var tracker = new InitPrune.Training.JacobianTracker(model, split.Test, c.ToTrainConfig(), InitPrune.Engine.Seeds.For(c.Seed, "train"));
        var expected = tracker.Measure(model, 0, 0, null);
        Assert.Equal(expected.Norm, point.Norm, 1e-9);
        Assert.Equal(expected.Std, point.Std, 1e-9);
    }

    /// <summary>
    /// A checkpoint changed after it was saved (well-formed, so it used to resume silently) is refused with a one-line
    /// reason, the run is marked failed with it, and --retry-failed (ResetFailed) then computes the run from scratch:
    /// the same result as a run never interrupted.
    /// </summary>
    [Theory]
    [InlineData("weight-times-1.01")]
    [InlineData("weight-1e30")]
    [InlineData("mask-bit-flipped")]
    [InlineData("epoch-2-to-4")]
    public void A_tampered_checkpoint_is_refused_and_retry_failed_recomputes_the_run_from_scratch(string tampering)
    {
        var c = Config();
        using var a = new TempDir();
        using var b = new TempDir();
        var (straight, straightWeights) = Compute(a.Path, c, null);

        var folders = new SweepFolders(b.Path);
        using var store = SqliteResultsStore.Open(Path.Combine(b.Path, "store.sqlite"));
        using var data = new RunDataCache(null);
        store.Register(Info, [Entry(c)]);
        var dead = new WorkerInfo("elsewhere", 1, 1);
        var executor = new RunExecutor(store, folders, data);
        executor.Step += p => { if (p.Epoch == 3 && p.Step == 3) throw new Crash(); };
        Assert.Throws<Crash>(() => executor.Execute(store.Claim(Info.Key, dead, SweepOptions.DefaultLease)!, dead));

        var checkpoint = folders.CheckpointOf(c.Id);
        var (tensors, meta) = Safetensors.LoadWithMetadata(checkpoint);
        Assert.Equal("2", meta["epoch"]);
        using (TorchSharp.torch.no_grad())
        {
            switch (tampering)
            {
                case "weight-times-1.01": tensors["model.layers.2.weight"].mul_(1.01); break;
                case "weight-1e30": tensors["model.layers.2.weight"][0, 0] = TorchSharp.torch.tensor(1e30f); break;
                case "mask-bit-flipped":
                    var mask = tensors["mask.layers.0.weight"].view(-1);
                    mask[0] = TorchSharp.torch.tensor(1f - mask[0].item<float>());
                    break;
                default: meta["epoch"] = "4"; break;
            }
        }
        Safetensors.Save(checkpoint, tensors, meta);
        tensors.Dispose();

        var refused = new RunExecutor(store, folders, data).Execute(store.Claim(Info.Key, WorkerInfo.Current, TimeSpan.Zero)!, WorkerInfo.Current);
        Assert.False(refused.Done);
        Assert.DoesNotContain('\n', refused.Error!);
        Assert.Contains($"the checkpoint of run {c.Id} was changed or replaced since it was saved", refused.Error);
        Assert.EndsWith("rerun this run from scratch with sweep --retry-failed", refused.Error!);
        var failed = Assert.Single(store.Load());
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal(refused.Error, failed.Error);
        Assert.False(File.Exists(checkpoint));
        Assert.True(File.Exists(RunExecutor.RejectedOf(checkpoint)));
        Assert.Null(store.Claim(Info.Key, WorkerInfo.Current, TimeSpan.Zero));

        Assert.Equal(1, store.ResetFailed(Info.Key));
        var retried = new RunExecutor(store, folders, data).Execute(store.Claim(Info.Key, WorkerInfo.Current, TimeSpan.Zero)!, WorkerInfo.Current);
        Assert.True(retried.Done, retried.Error);
        Assert.False(retried.Resumed);
        Assert.False(File.Exists(RunExecutor.RejectedOf(checkpoint)));
        var run = Assert.Single(store.Load());
        Assert.Equal(straight.Epochs.Select(e => e.TrainLoss), run.Epochs.Select(e => e.TrainLoss));
        Assert.Equal(straight.Result!.TestAccuracy, run.Result!.TestAccuracy);
        var weights = Safetensors.Load(Path.Combine(folders.RunFolder(c.Id), "final.safetensors"));
        foreach (var (name, t) in straightWeights) Assert.True(TestNets.Same(t, weights[name]), name);
    }

    /// <summary>Forwards to a real store, and dies (throws) once the store has recorded the checkpoint of <see cref="DieAfterEpoch"/>.</summary>
    public class DieBeforeRename : DispatchProxy
    {
        public IResultsStore Inner { get; set; } = null!;
        public int DieAfterEpoch { get; set; }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            object? result;
            try
            {
                result = method!.Invoke(Inner, args);
            }
            catch (TargetInvocationException e)
            {
                ExceptionDispatchInfo.Throw(e.InnerException!);
                throw;
            }
            if (method.Name == nameof(IResultsStore.RecordCheckpoints) && ((IReadOnlyList<CheckpointRecord>)args![1]!)[^1].Epoch == DieAfterEpoch)
                throw new Crash();
            return result;
        }
    }

    [Fact]
    public void A_run_that_dies_between_recording_a_checkpoint_and_renaming_it_resumes_from_the_one_before_bit_for_bit()
    {
        var c = Config();
        using var a = new TempDir();
        using var b = new TempDir();
        var (straight, straightWeights) = Compute(a.Path, c, null);

        var folders = new SweepFolders(b.Path);
        using var store = SqliteResultsStore.Open(Path.Combine(b.Path, "store.sqlite"));
        using var data = new RunDataCache(null);
        store.Register(Info, [Entry(c)]);
        var proxy = DispatchProxy.Create<IResultsStore, DieBeforeRename>();
        ((DieBeforeRename)(object)proxy).Inner = store;
        ((DieBeforeRename)(object)proxy).DieAfterEpoch = 2;
        var dead = new WorkerInfo("elsewhere", 1, 1);
        Assert.Throws<Crash>(() => new RunExecutor(proxy, folders, data).Execute(store.Claim(Info.Key, dead, SweepOptions.DefaultLease)!, dead));
        Assert.Equal([1, 2], store.Checkpoints(c.Id).Select(r => r.Epoch));
        Assert.Equal("1", Safetensors.LoadWithMetadata(folders.CheckpointOf(c.Id)).Metadata["epoch"]);

        var resumed = new RunExecutor(store, folders, data).Execute(store.Claim(Info.Key, WorkerInfo.Current, TimeSpan.Zero)!, WorkerInfo.Current);
        Assert.True(resumed.Done, resumed.Error);
        Assert.Equal(2, resumed.FromEpoch);
        var run = Assert.Single(store.Load());
        Assert.Equal(straight.Epochs.Select(e => e.TrainLoss), run.Epochs.Select(e => e.TrainLoss));
        Assert.Equal(straight.Result!.TestAccuracy, run.Result!.TestAccuracy);
        var weights = Safetensors.Load(Path.Combine(folders.RunFolder(c.Id), "final.safetensors"));
        foreach (var (name, t) in straightWeights) Assert.True(TestNets.Same(t, weights[name]), name);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_dataset_with_no_training_or_test_images_fails_the_run_before_training(int epochs)
    {
        using var dir = new TempDir();
        DataFiles.WriteMnistLike(dir.Sub("data"), [], [1, 2]);
        var c = Config() with { Data = new DataSettings("mnist"), Train = new TrainSettings(Epochs: epochs) };
        using var store = SqliteResultsStore.Open(dir.File("store.sqlite"));
        using var data = new RunDataCache(dir.File("data"));
        store.Register(Info, [Entry(c)]);
        var outcome = new RunExecutor(store, new SweepFolders(dir.Path), data).Execute(store.Claim(Info.Key, WorkerInfo.Current, SweepOptions.DefaultLease)!, WorkerInfo.Current);
        Assert.False(outcome.Done);
        Assert.StartsWith("mnist has no training samples", outcome.Error);
        var run = Assert.Single(store.Load());
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Empty(run.Epochs);
        Assert.Null(run.Pruning);
    }

    [Fact]
    public void Max_steps_stop_training_inside_an_epoch_and_the_learning_rate_schedule_follows_epochs()
    {
        var c = Config() with { Train = new TrainSettings(Lr: 0.05, Schedule: "step", Milestones: [0.5], Epochs: 4, MaxSteps: 70, BatchSize: 50) };
        using var dir = new TempDir();
        var (run, _) = Compute(dir.Path, c, null);
        // 1800 training samples / 50 = 36 steps per epoch: 70 steps end inside epoch 2.
        Assert.Equal([1, 2], run.Epochs.Select(e => e.Epoch));
        Assert.Equal([0.05, 0.05], run.Epochs.Select(e => e.LearningRate));
        Assert.NotNull(run.Epochs[^1].ValidationAccuracy);
    }

    [Fact]
    public void Prune_only_runs_record_the_mask_and_the_accuracy_at_initialization()
    {
        var c = Config() with { Train = new TrainSettings(Epochs: 0) };
        using var dir = new TempDir();
        var (run, weights) = Compute(dir.Path, c, null);
        Assert.Empty(run.Epochs);
        Assert.Equal(0.5, run.Pruning!.ActualSparsity, 3);
        Assert.Equal(run.Pruning.Layers.Sum(l => l.Total), run.Pruning.Total);
        Assert.NotNull(run.Result!.TestAccuracy);
        Assert.Equal(run.Pruning.Kept, weights.Where(kv => kv.Key.EndsWith(".weight")).Sum(kv => kv.Value.count_nonzero().item<long>()));
    }

    /// <summary>
    /// Forwards to a real store, but holds <see cref="IResultsStore.RecordPruning"/> until a heartbeat arrives: the
    /// claim must be renewed while the run's own thread is busy (as during a long SynFlow), not only between steps.
    /// </summary>
    public class HeartbeatGate : DispatchProxy
    {
        public IResultsStore Inner { get; set; } = null!;
        public ManualResetEventSlim Beat { get; } = new();
        public int Beats;
        public bool BeatWhilePruning { get; private set; }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(IResultsStore.Heartbeat))
            {
                Interlocked.Increment(ref Beats);
                Beat.Set();
            }
            if (method.Name == nameof(IResultsStore.RecordPruning)) BeatWhilePruning = Beat.Wait(TimeSpan.FromSeconds(30));
            try
            {
                return method.Invoke(Inner, args);
            }
            catch (TargetInvocationException e)
            {
                ExceptionDispatchInfo.Throw(e.InnerException!);
                throw;
            }
        }
    }

    [Fact]
    public void The_claim_is_renewed_during_pruning_and_no_longer_once_the_run_has_ended()
    {
        var c = Config("synflow") with { Train = new TrainSettings(Epochs: 1, BatchSize: 100) };
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(Path.Combine(dir.Path, "store.sqlite"));
        using var data = new RunDataCache(null);
        store.Register(Info, [Entry(c)]);
        var worker = new WorkerInfo("elsewhere", 1, 1);
        var claim = store.Claim(Info.Key, worker, SweepOptions.DefaultLease)!;

        var proxy = DispatchProxy.Create<IResultsStore, HeartbeatGate>();
        var gate = (HeartbeatGate)(object)proxy;
        gate.Inner = store;
        var executor = new RunExecutor(proxy, new SweepFolders(dir.Path), data) { HeartbeatEvery = TimeSpan.FromMilliseconds(20) };
        Assert.True(executor.Execute(claim, worker).Done);

        Assert.True(gate.BeatWhilePruning);
        int beats = Volatile.Read(ref gate.Beats);
        Thread.Sleep(200);
        Assert.Equal(beats, Volatile.Read(ref gate.Beats));
        Assert.Equal(RunStatus.Done, store.Load().Single().Status);
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dir.Path, "store.sqlite")}");
        db.Open();
        using var q = db.CreateCommand();
        q.CommandText = "SELECT heartbeat_at > claimed_at FROM runs";
        Assert.Equal(1L, q.ExecuteScalar());
    }
}
