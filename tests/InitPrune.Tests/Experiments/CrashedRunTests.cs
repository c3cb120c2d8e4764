using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Data;
using InitPrune.Training;

namespace InitPrune.Tests.Experiments;

/// <summary>A run that keeps killing its worker ends up failed with a reason, not "running" forever.</summary>
public class CrashedRunTests
{
    static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    static readonly SweepInfo Info = new("c@full", "", "", new ReportLayout(), [], "");

    static readonly RunConfig Config = new(new DataSettings("ellipse"), new ModelSettings(), new InitSettings(), new PruneSettings("none", 0), new TrainSettings(), 0);

    /// <summary>This process's pid with another start time: a worker that has certainly exited.</summary>
    static WorkerInfo Dead(int i) => new(Environment.MachineName, Environment.ProcessId, i);

    static SqliteResultsStore Store(TempDir dir)
    {
        var store = SqliteResultsStore.Open(dir.File("store.sqlite"));
        store.Register(Info, [new SweepEntry(Config, "dense", new Dictionary<string, string>())]);
        return store;
    }

    [Fact]
    public void A_run_whose_worker_died_three_times_without_finishing_an_epoch_is_marked_failed()
    {
        using var dir = new TempDir();
        using var store = Store(dir);
        for (int i = 1; i <= SqliteResultsStore.MaxCrashes; i++)
            Assert.Equal(i, store.Claim(Info.Key, Dead(i), Hour)!.Attempt);

        Assert.Null(store.Claim(Info.Key, WorkerInfo.Current, Hour));
        var run = store.Load().Single();
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains($"its worker stopped {SqliteResultsStore.MaxCrashes} times", run.Error);
        Assert.Contains("--retry-failed", run.Error);

        // --retry-failed gives it another attempt.
        Assert.Equal(1, store.ResetFailed(Info.Key));
        Assert.Equal(SqliteResultsStore.MaxCrashes + 1, store.Claim(Info.Key, WorkerInfo.Current, Hour)!.Attempt);
    }

    [Fact]
    public void A_run_whose_last_worker_finished_an_epoch_before_dying_is_resumed_however_often_it_was_interrupted()
    {
        using var dir = new TempDir();
        using var store = Store(dir);
        for (int i = 1; i <= SqliteResultsStore.MaxCrashes; i++)
        {
            var claim = store.Claim(Info.Key, Dead(i), Hour)!;
            store.RecordEpoch(claim.RunId, new EpochMetrics(i, 0.1, 1.0, 1.0, 0.5, 1, 100));
        }
        var again = store.Claim(Info.Key, WorkerInfo.Current, Hour);
        Assert.NotNull(again);
        Assert.Equal(SqliteResultsStore.MaxCrashes + 1, again.Attempt);
        Assert.Equal(RunStatus.Running, store.Load().Single().Status);
    }
}
