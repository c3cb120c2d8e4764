using System.Collections.Concurrent;
using System.Diagnostics;
using InitPrune.Experiments.Sweeps;
using InitPrune.Pruning;
using InitPrune.Training;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// What every results store must do, run once per backend (<see cref="SqliteResultsStoreTests"/>,
/// <see cref="PostgresResultsStoreTests"/>): <see cref="Open"/> opens this test's store (again, when called again).
/// </summary>
public abstract class ResultsStoreContract
{
    /// <summary>Opens this test's store: a new, empty one the first time, the same one after.</summary>
    protected abstract SqlResultsStore Open();

    protected static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    protected static RunConfig Config(long seed, string method = "none", double sparsity = 0) =>
        new(new DataSettings("ellipse"), new ModelSettings(), new InitSettings(), new PruneSettings(method, sparsity), new TrainSettings(), seed);

    protected static SweepEntry Entry(RunConfig config, string label, params (string Key, string Value)[] coordinates) =>
        new(config, label, coordinates.ToDictionary(c => c.Key, c => c.Value));

    protected static SweepInfo Sweep(string key, string description = "a sweep") =>
        new(key, description, "seed 001, figure 2", new ReportLayout(Rows: "prune.method", HeatmapX: "model.depth", SelectOver: "train.lr"),
            ["ran on fashion-mnist: mnist was not found", "second note"], "name: fig2\nruns: []\n");

    protected static List<SweepEntry> Seeds(int count) => [.. Enumerable.Range(0, count).Select(i => Entry(Config(i), "dense", ("seed", $"{i}")))];

    protected static EpochMetrics Epoch(int epoch, double loss) => new(epoch, 0.1, loss, loss + 1, 0.5 + epoch / 100.0, 2.5, 1000, loss + 2, 0.4);

    protected static RunResult Result(double accuracy) => new(accuracy, 0.25, null, 3, 12.5, 14,
        new EnvironmentInfo("0.1.0", "abc123", "0.107.0", "2.10.0", 2, "cpu", "box", "Linux 6.1", "10.0.1"));

    [Fact]
    public void The_jacobian_series_round_trips_in_step_order_and_a_resumed_run_replaces_a_step()
    {
        using var store = Open();
        var run = Config(0);
        var other = Config(1);
        store.Register(Sweep("j@small"), [Entry(run, "dense"), Entry(other, "dense")]);
        store.RecordJacobian(run.Id, new JacobianPoint(10, 1, 2.5, 0.25, 0.75));
        store.RecordJacobian(run.Id, new JacobianPoint(0, 0, 3.5, 0.5, null));
        store.RecordJacobian(run.Id, new JacobianPoint(10, 1, 2.25, 0.125, 0.5));
        store.RecordJacobian(run.Id, new JacobianPoint(20, 2, double.NaN, 0, 0.25));

        var expected = new[] { new JacobianPoint(0, 0, 3.5, 0.5, null), new JacobianPoint(10, 1, 2.25, 0.125, 0.5), new JacobianPoint(20, 2, double.NaN, 0, 0.25) };
        Assert.Equal(expected, store.Jacobian(run.Id));
        var loaded = store.Load("j@small");
        Assert.Equal(expected, loaded[0].JacobianSeries);
        Assert.Empty(loaded[1].JacobianSeries);
        Assert.Empty(store.Jacobian(other.Id));
        Assert.Throws<InvalidOperationException>(() => store.RecordJacobian("0123456789abcdef", expected[0]));
    }

    [Fact]
    public void RegisteringTwiceAddsNothingAndASharedRunAppearsOnceWithEachEntry()
    {
        using var store = Open();
        var dense = Config(0);
        var snip = Config(0, "snip", 0.9);
        List<SweepEntry> entries =
        [
            Entry(dense, "snip", ("prune.method", "snip"), ("prune.sparsity", "0")),
            Entry(snip, "snip", ("prune.method", "snip"), ("prune.sparsity", "0.9")),
            Entry(dense, "grasp", ("prune.sparsity", "0"), ("prune.method", "grasp")),
        ];
        store.Register(Sweep("fig@small"), entries);
        store.Register(Sweep("fig@small"), [entries[2], entries[1], entries[0]]);

        var runs = store.Load("fig@small");
        Assert.Equal([dense.Id, snip.Id], runs.Select(r => r.Id));
        Assert.All(runs, r => Assert.Equal(RunStatus.Pending, r.Status));
        Assert.Equal(snip, runs[1].Config);
        Assert.Equal(["snip", "grasp"], runs[0].Entries.Select(e => e.Label));
        Assert.Equal("grasp", runs[0].Entries[1].Coordinates["prune.method"]);
        Assert.Equal("0", runs[0].Entries[1].Coordinates["prune.sparsity"]);
        Assert.Single(runs[1].Entries);
        Assert.Single(store.Sweeps());
    }

    [Fact]
    public void LoadOfASweepListsItsOwnEntriesAndLoadOfAllListsEveryEntry()
    {
        using var store = Open();
        var shared = Config(7);
        store.Register(Sweep("a@small"), [Entry(Config(1), "x"), Entry(shared, "dense")]);
        store.Register(Sweep("b@small"), [Entry(shared, "baseline"), Entry(Config(2), "y")]);

        Assert.Equal([shared.Id, Config(2).Id], store.Load("b@small").Select(r => r.Id));
        Assert.Equal(["b@small"], store.Load("b@small")[0].Entries.Select(e => e.Sweep));
        var all = store.Load();
        Assert.Equal([Config(1).Id, shared.Id, Config(2).Id], all.Select(r => r.Id));
        Assert.Equal([("a@small", "dense"), ("b@small", "baseline")], all[1].Entries.Select(e => (e.Sweep, e.Label)));
        Assert.Empty(store.Load("unknown@small"));
    }

    [Fact]
    public void ClaimsTakeEveryRunOnceInRegistrationOrder()
    {
        using var store = Open();
        List<SweepEntry> entries = [.. new[] { 5, 3, 9, 1, 4 }.Select(s => Entry(Config(s), "dense"))];
        store.Register(Sweep("s@small"), entries);

        var claims = new List<RunClaim>();
        while (store.Claim("s@small", WorkerInfo.Current, Hour) is { } claim) claims.Add(claim);

        Assert.Equal(entries.Select(e => e.Config.Id), claims.Select(c => c.RunId));
        Assert.Equal(entries.Select(e => e.Config.Seed), claims.Select(c => c.Config.Seed));
        Assert.All(claims, c => Assert.Equal(1, c.Attempt));
        Assert.All(store.Load("s@small"), r =>
        {
            Assert.Equal(RunStatus.Running, r.Status);
            Assert.Equal(WorkerInfo.Current.ToString(), r.Worker);
        });
        Assert.Null(store.Claim("other@small", WorkerInfo.Current, Hour));
    }

    [Fact]
    public void ARunHeldByALiveWorkerIsNotClaimedAgain()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(1));
        Assert.NotNull(store.Claim("s@small", WorkerInfo.Current, Hour));
        Assert.Null(store.Claim("s@small", WorkerInfo.Current, Hour));
        Assert.Null(store.Claim("s@small", new WorkerInfo("elsewhere", 1, 1), Hour));
    }

    [Fact]
    public void ARunHeldByAnExitedProcessIsClaimedAgainWithAttemptTwo()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(1));
        using var process = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        var dead = new WorkerInfo(Environment.MachineName, process.Id, process.StartTime.ToUniversalTime().Ticks);
        Assert.True(dead.IsAlive());
        process.Kill();
        process.WaitForExit();
        Assert.False(dead.IsAlive());

        Assert.Equal(1, store.Claim("s@small", dead, Hour)!.Attempt);
        var again = store.Claim("s@small", WorkerInfo.Current, Hour);
        Assert.NotNull(again);
        Assert.Equal(2, again.Attempt);
        Assert.Equal(0, again.Config.Seed);
        Assert.Equal(WorkerInfo.Current.ToString(), store.Load()[0].Worker);
    }

    [Fact]
    public void ARunHeldByAReusedPidWithAnotherStartTimeIsClaimedAgain()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(1));
        var impostor = WorkerInfo.Current with { StartedTicks = WorkerInfo.Current.StartedTicks - TimeSpan.TicksPerDay };
        store.Claim("s@small", impostor, Hour);
        Assert.Equal(2, store.Claim("s@small", WorkerInfo.Current, Hour)!.Attempt);
    }

    [Fact]
    public void ARunWithAnExpiredHeartbeatIsClaimedAgain()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(1));
        var remote = new WorkerInfo("another-host", 42, 1);
        store.Claim("s@small", remote, Hour);
        store.Heartbeat(Config(0).Id, remote);
        Assert.Null(store.Claim("s@small", WorkerInfo.Current, Hour));
        Thread.Sleep(5);
        var claim = store.Claim("s@small", WorkerInfo.Current, TimeSpan.Zero);
        Assert.Equal(2, claim!.Attempt);
    }

    [Fact]
    public async Task FourStoresOnOneFileClaimEachOfTwoHundredRunsExactlyOnce()
    {
        using (var setup = Open())
            setup.Register(Sweep("s@small"), Seeds(200));

        var claims = new ConcurrentBag<(int Worker, RunClaim Claim)>();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Factory.StartNew(() =>
        {
            using var store = Open();
            var worker = new WorkerInfo($"host-{w}", 1000 + w, w);
            while (store.Claim("s@small", worker, Hour) is { } claim) claims.Add((w, claim));
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(200, claims.Count);
        Assert.Equal(Seeds(200).Select(e => e.Config.Id).Order(), claims.Select(c => c.Claim.RunId).Order());
        Assert.All(claims, c => Assert.Equal(1, c.Claim.Attempt));
        using var check = Open();
        var byId = claims.ToDictionary(c => c.Claim.RunId, c => $"host-{c.Worker}:{1000 + c.Worker}");
        Assert.All(check.Load("s@small"), r => Assert.Equal(byId[r.Id], r.Worker));
    }

    [Fact]
    public void EpochsRoundTripSortedAndARecomputedEpochReplacesTheOldOne()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(1));
        var id = Config(0).Id;
        store.RecordEpoch(id, Epoch(2, 0.5));
        store.RecordEpoch(id, Epoch(1, 0.9));
        store.RecordEpoch(id, Epoch(2, 0.4));
        store.RecordEpoch(id, new EpochMetrics(3, 0.01, double.NaN, double.PositiveInfinity, null, 1, 2));

        var epochs = store.Load()[0].Epochs;
        Assert.Equal([Epoch(1, 0.9), Epoch(2, 0.4)], epochs.Take(2));
        Assert.Equal(3, epochs[2].Epoch);
        Assert.True(double.IsNaN(epochs[2].TrainLoss));
        Assert.Equal(double.PositiveInfinity, epochs[2].TestLoss);
        Assert.Null(epochs[2].TestAccuracy);
        Assert.Null(epochs[2].ValidationLoss);
        Assert.Null(epochs[2].ValidationAccuracy);
        Assert.Equal(epochs.Select(e => (e.Epoch, e.TestLoss)), store.Epochs(id).Select(e => (e.Epoch, e.TestLoss)));
        Assert.Empty(store.Epochs(Config(1).Id));
    }

    [Fact]
    public void PruningRecordRoundTripsWithLayersAndUnitFractions()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(1));
        var record = new PruningRecord(0.75, 25, 100, [new LayerReport("layers.0.weight", 20, 80), new LayerReport("layers.1.weight", 5, 20)],
            new Dictionary<string, double[]> { ["layers.0.weight"] = [0.25, 0.0, 1.0], ["layers.1.weight"] = [0.5] },
            ["layer layers.0 lost a unit"], 1.5);
        store.RecordPruning(Config(0).Id, record);

        var back = store.Load()[0].Pruning!;
        Assert.Equal((0.75, 25L, 100L, 1.5), (back.ActualSparsity, back.Kept, back.Total, back.Seconds));
        Assert.Equal(record.Layers, back.Layers);
        Assert.Equal(0.25, back.Layers[0].KeptFraction);
        Assert.Equal(record.UnitKeptFractions.Keys.Order(), back.UnitKeptFractions.Keys.Order());
        Assert.Equal([0.25, 0.0, 1.0], back.UnitKeptFractions["layers.0.weight"]);
        Assert.Equal(record.Warnings, back.Warnings);
    }

    [Fact]
    public void FailureResetAndCompletionRoundTripWithTheEnvironment()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(2));
        store.Register(Sweep("t@small"), [Entry(Config(9), "other")]);
        var first = store.Claim("s@small", WorkerInfo.Current, Hour)!;
        store.Fail(first.RunId, "training diverged at epoch 2");
        var failedElsewhere = store.Claim("t@small", WorkerInfo.Current, Hour)!;
        store.Fail(failedElsewhere.RunId, "out of memory");

        var failed = store.Load("s@small")[0];
        Assert.Equal((RunStatus.Failed, "training diverged at epoch 2"), (failed.Status, failed.Error));
        Assert.Equal(1, store.ResetFailed("s@small"));
        Assert.Equal(0, store.ResetFailed("s@small"));
        Assert.Equal(RunStatus.Failed, store.Load("t@small")[0].Status);
        var reset = store.Load("s@small")[0];
        Assert.Equal((RunStatus.Pending, null, 1), (reset.Status, reset.Error, reset.Attempts));

        var again = store.Claim("s@small", WorkerInfo.Current, Hour)!;
        Assert.Equal((first.RunId, 2), (again.RunId, again.Attempt));
        store.Complete(again.RunId, Result(0.875));
        var done = store.Load("s@small")[0];
        Assert.Equal(RunStatus.Done, done.Status);
        Assert.Null(done.Error);
        Assert.Equal(Result(0.875), done.Result);
        Assert.Null(done.Pruning);
        Assert.Null(store.Load("s@small")[1].Result);
    }

    [Fact]
    public void SweepsRoundTripInRegistrationOrderAndReRegisteringReplacesTheirText()
    {
        using var store = Open();
        store.Register(Sweep("b@small"), []);
        store.Register(Sweep("a@small"), []);
        store.Register(Sweep("b@small", "revised"), []);

        var sweeps = store.Sweeps();
        Assert.Equal(["b@small", "a@small"], sweeps.Select(s => s.Key));
        Assert.Equal("revised", sweeps[0].Description);
        var expected = Sweep("b@small", "revised");
        Assert.Equal((expected.Reproduces, expected.Layout, expected.SpecText), (sweeps[0].Reproduces, sweeps[0].Layout, sweeps[0].SpecText));
        Assert.Equal(expected.Notes, sweeps[0].Notes);
        Assert.Equal("train.lr", sweeps[0].Layout.SelectOver);
        Assert.Null(sweeps[0].Layout.HeatmapY);
    }

    [Fact]
    public void UnknownRunIdsAreProgrammingErrors()
    {
        using var store = Open();
        Assert.Throws<InvalidOperationException>(() => store.Heartbeat("0123456789abcdef", WorkerInfo.Current));
        Assert.Throws<InvalidOperationException>(() => store.RecordEpoch("0123456789abcdef", Epoch(1, 0.5)));
        Assert.Throws<InvalidOperationException>(() => store.RecordPruning("0123456789abcdef", new PruningRecord(0, 0, 0, [], new Dictionary<string, double[]>(), [], 0)));
        Assert.Throws<InvalidOperationException>(() => store.Complete("0123456789abcdef", Result(0.5)));
        Assert.Throws<InvalidOperationException>(() => store.Fail("0123456789abcdef", "x"));
    }

    /// <summary>This process's pid with another start time: a worker that has certainly exited.</summary>
    static WorkerInfo Dead(int i) => new(Environment.MachineName, Environment.ProcessId, i);

    [Fact]
    public void A_run_whose_worker_died_three_times_without_finishing_an_epoch_is_marked_failed()
    {
        using var store = Open();
        store.Register(Sweep("c@full"), Seeds(1));
        for (int i = 1; i <= SqlResultsStore.MaxCrashes; i++)
            Assert.Equal(i, store.Claim("c@full", Dead(i), Hour)!.Attempt);

        Assert.Null(store.Claim("c@full", WorkerInfo.Current, Hour));
        var run = store.Load().Single();
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains($"its worker stopped {SqlResultsStore.MaxCrashes} times, the last time ({Dead(3)})", run.Error);
        Assert.Contains("--retry-failed", run.Error);

        // --retry-failed gives it another attempt.
        Assert.Equal(1, store.ResetFailed("c@full"));
        Assert.Equal(SqlResultsStore.MaxCrashes + 1, store.Claim("c@full", WorkerInfo.Current, Hour)!.Attempt);
    }

    [Fact]
    public void A_run_whose_last_worker_finished_an_epoch_before_dying_is_resumed_however_often_it_was_interrupted()
    {
        using var store = Open();
        store.Register(Sweep("c@full"), Seeds(1));
        for (int i = 1; i <= SqlResultsStore.MaxCrashes; i++)
        {
            var claim = store.Claim("c@full", Dead(i), Hour)!;
            store.RecordEpoch(claim.RunId, new EpochMetrics(i, 0.1, 1.0, 1.0, 0.5, 1, 100));
        }
        var again = store.Claim("c@full", WorkerInfo.Current, Hour);
        Assert.NotNull(again);
        Assert.Equal(SqlResultsStore.MaxCrashes + 1, again.Attempt);
        Assert.Equal(RunStatus.Running, store.Load().Single().Status);
    }

    [Fact]
    public void A_reopened_store_sees_everything_and_claims_where_the_last_one_stopped()
    {
        var id = Config(1).Id;
        using (var store = Open())
        {
            store.Register(Sweep("s@small"), Seeds(3));
            store.Claim("s@small", WorkerInfo.Current, Hour);
            store.Claim("s@small", WorkerInfo.Current, Hour);
            store.RecordEpoch(id, Epoch(1, 0.3));
            store.RecordCheckpoints(id, [new CheckpointRecord(1, 36, "ab")]);
            store.Complete(id, Result(0.5));
        }
        using (var store = Open())
        {
            var runs = store.Load("s@small");
            Assert.Equal([RunStatus.Running, RunStatus.Done, RunStatus.Pending], runs.Select(r => r.Status));
            Assert.Equal([Epoch(1, 0.3)], runs[1].Epochs);
            Assert.Equal(Result(0.5), runs[1].Result);
            Assert.Equal([new CheckpointRecord(1, 36, "ab")], store.Checkpoints(id));
            Assert.Equal("s@small", store.Sweeps().Single().Key);
            Assert.Equal(Config(2).Id, store.Claim("s@small", WorkerInfo.Current, Hour)!.RunId);
        }
    }

    [Fact]
    public void A_dump_restored_into_the_store_it_came_from_is_refused_and_changes_nothing()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(2));
        store.RecordEpoch(Config(0).Id, Epoch(1, 0.3));
        var dump = store.Dump();
        var before = store.Load();
        var e = Assert.Throws<InitPrune.Engine.InitPruneException>(() => store.Restore(dump));
        Assert.Contains("already holds sweep 's@small'", e.Message);
        Assert.Equal(before.Select(r => (r.Id, r.Status, r.Epochs.Count)), store.Load().Select(r => (r.Id, r.Status, r.Epochs.Count)));
        Assert.Contains("holds no sweep 'other@small'", Assert.Throws<InitPrune.Engine.InitPruneException>(() => store.Dump(["other@small"])).Message);
    }
}
