using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary><c>bench --claims</c>: both stores measured with concurrent workers, each run claimed exactly once, and the database it may use.</summary>
public sealed class ClaimBenchmarkTests : IDisposable
{
    readonly TempDir dir = new();
    readonly TestDatabase database = new();

    public void Dispose()
    {
        database.Dispose();
        dir.Dispose();
    }

    [Fact]
    public void Both_stores_hand_every_run_to_exactly_one_of_four_workers_and_the_figures_are_written()
    {
        var timings = ClaimBenchmark.RunInto(dir.Path, database.Location, runs: 120, workers: 4);
        Assert.Equal(["sqlite", "postgres"], timings.Select(t => t.Store));
        Assert.All(timings, t =>
        {
            Assert.True(t.EachOnce);
            Assert.Equal((120, 4), (t.Runs, t.Workers));
            Assert.InRange(t.MedianMilliseconds, 0, t.P95Milliseconds);
            Assert.InRange(t.P95Milliseconds, t.MedianMilliseconds, t.MaxMilliseconds);
            Assert.Equal(t.Runs / t.Seconds, t.ClaimsPerSecond, 9);
        });
        Assert.Equal(database.Location, timings[1].Location);
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("claims.json"))).RootElement;
        Assert.Equal(2, json.GetArrayLength());
        Assert.False(File.Exists(dir.File("claims.sqlite")));

        // Run again on the same database: its runs are new ones, all claimed again.
        Assert.True(ClaimBenchmark.RunInto(dir.Path, database.Location, runs: 30, workers: 2)[1].EachOnce);
        using var store = ResultsStores.Open(database.Location);
        Assert.Equal(150, store.Load().Count(r => r.Status == RunStatus.Done));
    }

    [Fact]
    public void A_database_holding_another_sweep_or_a_SQLite_location_is_refused()
    {
        using (var store = ResultsStores.Open(database.Location))
            store.Register(new SweepInfo("mine@full", "", "", new ReportLayout(), [], ""), []);
        var e = Assert.Throws<InitPruneException>(() => ClaimBenchmark.RunInto(dir.Path, database.Location, runs: 10, workers: 2));
        Assert.Equal($"the database {database.Location} holds sweep 'mine@full': bench --claims registers thousands of runs, give it an empty database (createdb initprune_bench)", e.Message);
        Assert.Contains("is not a PostgreSQL location", Assert.Throws<InitPruneException>(() => ClaimBenchmark.RunInto(dir.Path, dir.File("x.sqlite"), runs: 10)).Message);
    }
}
