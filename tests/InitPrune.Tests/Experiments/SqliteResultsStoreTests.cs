using System.Collections.Concurrent;
using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using InitPrune.Training;
using Microsoft.Data.Sqlite;

namespace InitPrune.Tests.Experiments;

public sealed class SqliteResultsStoreTests : ResultsStoreContract, IDisposable
{
    readonly TempDir folder = new();

    public void Dispose() => folder.Dispose();

    protected override SqlResultsStore Open() => SqliteResultsStore.Open(folder.File("results.db"));

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
