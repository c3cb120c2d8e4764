using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;

namespace InitPrune.Tests.Experiments;

/// <summary>The store contract on a real PostgreSQL server (a throwaway database per test), and what only PostgreSQL has.</summary>
public sealed class PostgresResultsStoreTests : ResultsStoreContract, IDisposable
{
    readonly TestDatabase database = new();

    public void Dispose() => database.Dispose();

    protected override SqlResultsStore Open() => Assert.IsType<PostgresResultsStore>(ResultsStores.Open(database.Location));

    [Fact]
    public void The_tables_live_in_a_schema_of_their_own_beside_another_programs_and_each_migration_is_recorded()
    {
        database.Run("CREATE TABLE public.runs(note TEXT); INSERT INTO public.runs VALUES('keep me')");
        using (var store = Open()) store.Register(Sweep("s@small"), Seeds(2));
        using (var again = Open()) Assert.Equal(2, again.Load("s@small").Count);

        Assert.Equal("keep me", database.Scalar("SELECT note FROM public.runs"));
        Assert.Equal(2L, database.Scalar("SELECT count(*) FROM initprune.runs"));
        Assert.Equal(1L, database.Scalar("SELECT count(*) FROM initprune.migrations"));
        Assert.Equal(1, database.Scalar("SELECT max(version) FROM initprune.migrations"));
        Assert.StartsWith("InitPrune ", (string)database.Scalar("SELECT program FROM initprune.migrations")!);
    }

    [Fact]
    public void A_database_migrated_by_a_newer_InitPrune_is_refused_in_one_line_and_left_untouched()
    {
        using (var store = Open()) store.Register(Sweep("s@small"), Seeds(1));
        database.Run("INSERT INTO initprune.migrations(version, program) VALUES(2, 'InitPrune 9.9')");

        var e = Assert.Throws<InitPruneException>(() => ResultsStores.Open(database.Location));
        Assert.Equal($"the PostgreSQL store {database.Location} was migrated by a newer InitPrune (store schema 2, this one reads up to 1): upgrade InitPrune or pass another --store", e.Message);
        Assert.Equal(2L, database.Scalar("SELECT count(*) FROM initprune.migrations"));
        Assert.Equal(1L, database.Scalar("SELECT count(*) FROM initprune.runs"));
    }

    [Fact]
    public void Heartbeats_are_judged_on_the_servers_clock()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(1));
        var remote = new WorkerInfo("another-host", 42, 1);
        store.Claim("s@small", remote, Hour);
        // The holder's heartbeat is one hour old by the server's clock, whatever this machine's clock says.
        database.Run("UPDATE initprune.runs SET heartbeat_at = clock_timestamp() - interval '61 minutes'");
        Assert.Equal(2, store.Claim("s@small", WorkerInfo.Current, Hour)!.Attempt);
        database.Run("UPDATE initprune.runs SET heartbeat_at = clock_timestamp() - interval '59 minutes', worker_host = 'another-host'");
        Assert.Null(store.Claim("s@small", WorkerInfo.Current, Hour));
    }

    [Fact]
    public void A_missing_database_and_an_unreachable_server_are_one_line_errors()
    {
        var missing = database.Location.Replace(database.Name, database.Name + "_missing");
        var e = Assert.Throws<InitPruneException>(() => ResultsStores.Open(missing));
        Assert.Equal($"the database of {missing} does not exist: create it (createdb NAME) or fix the --store location", e.Message);

        var closed = Assert.Throws<InitPruneException>(() => ResultsStores.Open("postgres://nobody@127.0.0.1:1/x?connect_timeout=2"));
        Assert.StartsWith("cannot reach the PostgreSQL server of postgres://nobody@127.0.0.1:1/x (", closed.Message);
        Assert.DoesNotContain('\n', closed.Message);
    }

    [Fact]
    public void A_store_whose_connections_the_server_dropped_goes_on_over_new_ones()
    {
        using var store = Open();
        store.Register(Sweep("s@small"), Seeds(3));
        var claim = store.Claim("s@small", WorkerInfo.Current, Hour)!;
        // As a server restart would: every connection of the store's pool is closed by the server.
        var killed = Convert.ToInt64(database.Scalar($"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{database.Name}' AND pid <> pg_backend_pid()"));
        Assert.True(killed >= 1);
        store.RecordEpoch(claim.RunId, Epoch(1, 0.5));
        store.Complete(claim.RunId, Result(0.75));
        var runs = store.Load("s@small");
        Assert.Equal([RunStatus.Done, RunStatus.Pending, RunStatus.Pending], runs.Select(r => r.Status));
        Assert.Equal([Epoch(1, 0.5)], runs[0].Epochs);
    }
}
