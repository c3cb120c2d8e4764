using System.Collections.Concurrent;
using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using InitPrune.Training;
using Microsoft.Data.Sqlite;

namespace InitPrune.Tests.Experiments;

public class SqliteResultsStoreTests
{
    static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    static RunConfig Config(long seed, string method = "none", double sparsity = 0) =>
        new(new DataSettings("ellipse"), new ModelSettings(), new InitSettings(), new PruneSettings(method, sparsity), new TrainSettings(), seed);

    static SweepEntry Entry(RunConfig config, string label, params (string Key, string Value)[] coordinates) =>
        new(config, label, coordinates.ToDictionary(c => c.Key, c => c.Value));

    static SweepInfo Sweep(string key, string description = "a sweep") =>
        new(key, description, "seed 001, figure 2", new ReportLayout(Rows: "prune.method", HeatmapX: "model.depth", SelectOver: "train.lr"),
            ["ran on fashion-mnist: mnist was not found", "second note"], "name: fig2\nruns: []\n");

    static List<SweepEntry> Seeds(int count) => [.. Enumerable.Range(0, count).Select(i => Entry(Config(i), "dense", ("seed", $"{i}")))];

    static EpochMetrics Epoch(int epoch, double loss) => new(epoch, 0.1, loss, loss + 1, 0.5 + epoch / 100.0, 2.5, 1000, loss + 2, 0.4);

    static RunResult Result(double accuracy) => new(accuracy, 0.25, null, 3, 12.5, 14,
        new EnvironmentInfo("0.1.0", "abc123", "0.107.0", "2.10.0", 2, "cpu", "box", "Linux 6.1", "10.0.1"));

    [Fact]
    public void A_schema_1_store_is_migrated_keeping_its_runs_and_then_records_checkpoints()
    {
        using var dir = new TempDir();
        var path = dir.File("v1.sqlite");
        var run = Config(0);
        using (var store = SqliteResultsStore.Open(path))
        {
            store.Register(Sweep("old@full"), [Entry(run, "dense")]);
            store.Claim("old@full", WorkerInfo.Current, Hour);
            store.RecordEpoch(run.Id, Epoch(1, 0.5));
        }
        // Schema 1 is schema 4 without runs.checkpoints_json (2), epochs.kept_fraction, epochs.lambda (3) and the table jacobian (4).
        using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            db.Open();
            using var downgrade = db.CreateCommand();
            downgrade.CommandText = "ALTER TABLE runs DROP COLUMN checkpoints_json; ALTER TABLE epochs DROP COLUMN kept_fraction; ALTER TABLE epochs DROP COLUMN lambda; DROP TABLE jacobian; PRAGMA user_version = 1";
            downgrade.ExecuteNonQuery();
        }

        using (var store = SqliteResultsStore.Open(path))
        {
            var loaded = Assert.Single(store.Load("old@full"));
            Assert.Equal(RunStatus.Running, loaded.Status);
            Assert.Equal([0.5], loaded.Epochs.Select(e => e.TrainLoss));
            Assert.Empty(store.Checkpoints(run.Id));
            store.RecordCheckpoints(run.Id, [new CheckpointRecord(1, 36, "ab"), new CheckpointRecord(2, 72, "cd")]);
            Assert.Equal([new CheckpointRecord(1, 36, "ab"), new CheckpointRecord(2, 72, "cd")], store.Checkpoints(run.Id));
            Assert.Null(loaded.Epochs[0].KeptFraction);
            store.RecordEpoch(run.Id, new EpochMetrics(-1, 0.1, 0.4, 0.3, null, 1, 0, KeptFraction: 0.05, Lambda: 1.5));
            var popup = store.Epochs(run.Id)[0];
            Assert.Equal((-1, 0.05, 1.5), (popup.Epoch, popup.KeptFraction, popup.Lambda));
        }
        using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        using var version = check.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        Assert.Equal(4L, version.ExecuteScalar());
    }

    [Fact]
    public void The_jacobian_series_round_trips_in_step_order_and_a_resumed_run_replaces_a_step()
    {
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
    public void A_schema_3_store_is_migrated_to_4_keeping_its_runs_and_then_records_jacobians()
    {
        using var dir = new TempDir();
        var path = dir.File("v3.sqlite");
        var run = Config(0);
        using (var store = SqliteResultsStore.Open(path))
        {
            store.Register(Sweep("old@full"), [Entry(run, "dense")]);
            store.RecordEpoch(run.Id, Epoch(1, 0.5));
            store.RecordCheckpoints(run.Id, [new CheckpointRecord(1, 36, "ab")]);
        }
        // Schema 3 is schema 4 without the table jacobian.
        using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            db.Open();
            using var downgrade = db.CreateCommand();
            downgrade.CommandText = "DROP TABLE jacobian; PRAGMA user_version = 3";
            downgrade.ExecuteNonQuery();
        }

        using (var store = SqliteResultsStore.Open(path))
        {
            var loaded = Assert.Single(store.Load("old@full"));
            Assert.Equal([0.5], loaded.Epochs.Select(e => e.TrainLoss));
            Assert.Equal([new CheckpointRecord(1, 36, "ab")], store.Checkpoints(run.Id));
            Assert.Empty(loaded.JacobianSeries);
            store.RecordJacobian(run.Id, new JacobianPoint(0, 0, 1.5, 0.1, null));
            Assert.Equal([new JacobianPoint(0, 0, 1.5, 0.1, null)], store.Load("old@full")[0].JacobianSeries);
        }
        using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        using var version = check.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        Assert.Equal(4L, version.ExecuteScalar());
    }

    [Fact]
    public void A_store_of_a_newer_schema_is_refused_in_one_line_and_left_untouched()
    {
        using var dir = new TempDir();
        var path = dir.File("v5.sqlite");
        using (var store = SqliteResultsStore.Open(path)) store.Register(Sweep("new@full"), [Entry(Config(0), "dense")]);
        using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            db.Open();
            using var upgrade = db.CreateCommand();
            upgrade.CommandText = "PRAGMA user_version = 5";
            upgrade.ExecuteNonQuery();
        }
        var before = File.ReadAllBytes(path);
        var e = Assert.Throws<InitPruneException>(() => SqliteResultsStore.Open(path));
        Assert.Equal($"{path} was written by a newer InitPrune (store schema 5, this one reads up to 4): upgrade InitPrune or pass another --store", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void RegisteringTwiceAddsNothingAndASharedRunAppearsOnceWithEachEntry()
    {
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("sub/folder/results.db"));
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
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
        store.Register(Sweep("s@small"), Seeds(1));
        Assert.NotNull(store.Claim("s@small", WorkerInfo.Current, Hour));
        Assert.Null(store.Claim("s@small", WorkerInfo.Current, Hour));
        Assert.Null(store.Claim("s@small", new WorkerInfo("elsewhere", 1, 1), Hour));
    }

    [Fact]
    public void ARunHeldByAnExitedProcessIsClaimedAgainWithAttemptTwo()
    {
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
        store.Register(Sweep("s@small"), Seeds(1));
        var impostor = WorkerInfo.Current with { StartedTicks = WorkerInfo.Current.StartedTicks - TimeSpan.TicksPerDay };
        store.Claim("s@small", impostor, Hour);
        Assert.Equal(2, store.Claim("s@small", WorkerInfo.Current, Hour)!.Attempt);
    }

    [Fact]
    public void ARunWithAnExpiredHeartbeatIsClaimedAgain()
    {
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
        using var dir = new TempDir();
        var path = dir.File("results.db");
        using (var setup = SqliteResultsStore.Open(path))
            setup.Register(Sweep("s@small"), Seeds(200));

        var claims = new ConcurrentBag<(int Worker, RunClaim Claim)>();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Factory.StartNew(() =>
        {
            using var store = SqliteResultsStore.Open(path);
            var worker = new WorkerInfo($"host-{w}", 1000 + w, w);
            while (store.Claim("s@small", worker, Hour) is { } claim) claims.Add((w, claim));
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(200, claims.Count);
        Assert.Equal(Seeds(200).Select(e => e.Config.Id).Order(), claims.Select(c => c.Claim.RunId).Order());
        Assert.All(claims, c => Assert.Equal(1, c.Claim.Attempt));
        using var check = SqliteResultsStore.Open(path);
        var byId = claims.ToDictionary(c => c.Claim.RunId, c => $"host-{c.Worker}:{1000 + c.Worker}");
        Assert.All(check.Load("s@small"), r => Assert.Equal(byId[r.Id], r.Worker));
    }

    [Fact]
    public void EpochsRoundTripSortedAndARecomputedEpochReplacesTheOldOne()
    {
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
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
        using var dir = new TempDir();
        using var store = SqliteResultsStore.Open(dir.File("results.db"));
        Assert.Throws<InvalidOperationException>(() => store.Heartbeat("0123456789abcdef", WorkerInfo.Current));
        Assert.Throws<InvalidOperationException>(() => store.RecordEpoch("0123456789abcdef", Epoch(1, 0.5)));
        Assert.Throws<InvalidOperationException>(() => store.RecordPruning("0123456789abcdef", new PruningRecord(0, 0, 0, [], new Dictionary<string, double[]>(), [], 0)));
        Assert.Throws<InvalidOperationException>(() => store.Complete("0123456789abcdef", Result(0.5)));
        Assert.Throws<InvalidOperationException>(() => store.Fail("0123456789abcdef", "x"));
    }

    [Fact]
    public void AJunkFileIsRejectedWithOneLine()
    {
        using var dir = new TempDir();
        var path = dir.File("results.db");
        var junk = Enumerable.Range(0, 4096).Select(i => (byte)(i * 37 % 251)).ToArray();
        File.WriteAllBytes(path, junk);

        var e = Assert.Throws<InitPruneException>(() => SqliteResultsStore.Open(path));
        Assert.Equal($"{path} is not an InitPrune results store (not a SQLite database): pass another --store or delete it", e.Message);
        Assert.Equal(junk, File.ReadAllBytes(path));
    }

    [Fact]
    public void AnotherProgramsDatabaseIsRejectedAndLeftAsItWas()
    {
        using var dir = new TempDir();
        var path = dir.File("other.db");
        using (var other = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            other.Open();
            using var create = other.CreateCommand();
            create.CommandText = "CREATE TABLE notes(text TEXT); INSERT INTO notes VALUES('keep me')";
            create.ExecuteNonQuery();
        }
        var before = File.ReadAllBytes(path);

        var e = Assert.Throws<InitPruneException>(() => SqliteResultsStore.Open(path));
        Assert.StartsWith($"{path} is not an InitPrune results store (a SQLite database of another program)", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void AReopenedStoreSeesEverythingAndTheFolderCanBeDeleted()
    {
        var dir = new TempDir();
        var path = dir.File("results.db");
        var id = Config(1).Id;
        using (var store = SqliteResultsStore.Open(path))
        {
            store.Register(Sweep("s@small"), Seeds(3));
            store.Claim("s@small", WorkerInfo.Current, Hour);
            store.Claim("s@small", WorkerInfo.Current, Hour);
            store.RecordEpoch(id, Epoch(1, 0.3));
            store.Complete(id, Result(0.5));
        }
        using (var store = SqliteResultsStore.Open(path))
        {
            var runs = store.Load("s@small");
            Assert.Equal([RunStatus.Running, RunStatus.Done, RunStatus.Pending], runs.Select(r => r.Status));
            Assert.Equal([Epoch(1, 0.3)], runs[1].Epochs);
            Assert.Equal(0.5, runs[1].Result!.TestAccuracy);
            Assert.Equal("s@small", store.Sweeps().Single().Key);
            Assert.Equal(Config(2).Id, store.Claim("s@small", WorkerInfo.Current, Hour)!.RunId);
        }
        dir.Dispose();
        Assert.False(Directory.Exists(dir.Path));
    }
}
