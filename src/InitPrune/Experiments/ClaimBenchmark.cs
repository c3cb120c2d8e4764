using System.Collections.Concurrent;
using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Training;

namespace InitPrune.Experiments;

/// <summary>
/// One store's claims under <see cref="Workers"/> concurrent workers: throughput (claims per second of wall time, each
/// worker claiming a run and completing it at once) and the latency of one <c>Claim</c> call (median, 95th
/// percentile, largest); <see cref="EachOnce"/>: every run was claimed exactly once.
/// </summary>
public sealed record ClaimTiming(string Store, string Location, int Runs, int Workers, double Seconds, double ClaimsPerSecond,
    double MedianMilliseconds, double P95Milliseconds, double MaxMilliseconds, bool EachOnce);

/// <summary>
/// <c>initprune bench --claims</c>: how fast workers take runs from each kind of store, the cost a sweep pays per run
/// besides computing it. A SQLite file in the output folder, and the PostgreSQL database given (which must hold no
/// sweep but this benchmark's: it registers runs there). Each worker is a thread with a store of its own (its own
/// connection, as a worker process has) and a worker identity of its own, so no claim is taken over.
/// </summary>
public static class ClaimBenchmark
{
    /// <summary>The sweep the benchmark registers (in a PostgreSQL database it is the only one allowed besides earlier runs of the benchmark).</summary>
    public const string SweepName = "claims-bench";

    public static List<ClaimTiming> RunInto(string outDir, string? postgres, int runs = 2000, int workers = 8, Action<ClaimTiming>? progress = null)
    {
        if (runs < 1) throw new InitPruneException($"--runs {runs} is impossible: use at least 1");
        if (workers < 1) throw new InitPruneException($"--workers {workers} is impossible: use at least 1");
        var dir = Artifacts.PrepareOutput(outDir);
        var sqlite = Path.Combine(dir, "claims.sqlite");
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(sqlite + suffix);
        var results = new List<ClaimTiming> { Time("sqlite", sqlite, runs, workers) };
        progress?.Invoke(results[^1]);
        if (postgres is not null)
        {
            if (ResultsStores.Parse(postgres).Kind != StoreKind.Postgres)
                throw new InitPruneException($"--store {postgres} is not a PostgreSQL location: write postgres://user@host/database (a database for the benchmark)");
            using (var store = ResultsStores.Open(postgres))
                if (store.Sweeps().FirstOrDefault(s => !s.Key.StartsWith(SweepName + "@", StringComparison.Ordinal)) is { } other)
                    throw new InitPruneException($"the database {store.Location} holds sweep '{other.Key}': bench --claims registers thousands of runs, give it an empty database (createdb initprune_bench)");
            results.Add(Time("postgres", postgres, runs, workers));
            progress?.Invoke(results[^1]);
        }
        File.Delete(sqlite);
        Artifacts.WriteJson(Path.Combine(dir, "claims.json"), results);
        return results;
    }

    static ClaimTiming Time(string kind, string location, int runs, int workers)
    {
        var key = $"{SweepName}@{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var info = new SweepInfo(key, "claim benchmark", "", new ReportLayout(), [], "");
        // Runs of its own (seeds no earlier benchmark used), so none is done already in a database used before.
        long first = Random.Shared.NextInt64(1L << 40);
        var entries = Enumerable.Range(0, runs).Select(i => new SweepEntry(
            new RunConfig(new DataSettings("ellipse"), new ModelSettings(), new InitSettings(), new PruneSettings("none", 0), new TrainSettings(), first + i),
            "bench", new Dictionary<string, string>())).ToList();
        string shown;
        using (var setup = ResultsStores.Open(location))
        {
            setup.Register(info, entries);
            shown = setup.Location;
        }
        var result = new RunResult(0.5, 1, null, 1, 0, 0, new EnvironmentInfo("bench", "", "", "", 1, "cpu", "bench", "", ""));
        var latencies = new ConcurrentBag<double>();
        var claimed = new ConcurrentBag<string>();
        var failures = new ConcurrentBag<Exception>();
        var stores = new List<IResultsStore>();
        try
        {
            for (int w = 0; w < workers; w++) stores.Add(ResultsStores.Open(location));
            using var start = new Barrier(workers + 1);
            var threads = Enumerable.Range(0, workers).Select(w => new Thread(() =>
            {
                var me = new WorkerInfo($"bench-{w}", 1000 + w, w);
                start.SignalAndWait();
                try
                {
                    while (true)
                    {
                        var clock = Stopwatch.StartNew();
                        var claim = stores[w].Claim(key, me, TimeSpan.FromHours(1));
                        latencies.Add(clock.Elapsed.TotalSeconds);
                        if (claim is null) break;
                        claimed.Add(claim.RunId);
                        stores[w].Complete(claim.RunId, result);
                    }
                }
                catch (Exception e)
                {
                    failures.Add(e);
                }
            })).ToList();
            foreach (var t in threads) t.Start();
            start.SignalAndWait();
            var wall = Stopwatch.StartNew();
            foreach (var t in threads) t.Join();
            if (!failures.IsEmpty) throw failures.First();
            var seconds = wall.Elapsed.TotalSeconds;
            var sorted = latencies.Order().ToArray();
            bool eachOnce = claimed.Count == runs && claimed.Distinct().Count() == runs;
            return new ClaimTiming(kind, shown, runs, workers, seconds, runs / seconds,
                1e3 * sorted[sorted.Length / 2], 1e3 * sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(0.95 * sorted.Length) - 1)], 1e3 * sorted[^1], eachOnce);
        }
        finally
        {
            foreach (var store in stores) store.Dispose();
        }
    }
}
