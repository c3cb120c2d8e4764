using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Training;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// How a worker runs a sweep's runs: the results store's location (<see cref="ResultsStores"/>), the artefact folder
/// for checkpoints and final weights (<see cref="SweepFolders"/>), and the TensorBoard folder (null: no logs).
/// </summary>
public sealed record SweepOptions(
    string Store,
    string Artifacts,
    int Workers = 1,
    string? DataDir = null,
    string? TensorBoard = null,
    bool RetryFailed = false,
    int? Threads = null,
    TimeSpan? Lease = null)
{
    /// <summary>The default lease: a claim whose heartbeat is older is taken to be dead (a worker on another machine).</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromMinutes(15);

    /// <summary>The lease in force.</summary>
    public TimeSpan LeaseOrDefault => Lease ?? DefaultLease;

    /// <summary>How often a worker renews its claims: a third of the lease, at most every 30 s.</summary>
    public TimeSpan HeartbeatEvery => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, LeaseOrDefault.Ticks / 3));

    public SweepFolders Folders => new(Path.GetFullPath(Artifacts), TensorBoard is { } tb ? Path.GetFullPath(tb) : null);
}

/// <summary>What a sweep left in the store, and what this call computed.</summary>
public sealed record SweepSummary(
    string Sweep,
    string Store,
    int Runs,
    int Done,
    int Failed,
    int Pending,
    int ComputedNow,
    double Seconds,
    IReadOnlyList<string> Notes,
    IReadOnlyList<string> Failures);

/// <summary>
/// Runs a sweep: registers its runs in the store (idempotent), then claims and computes runs until none is left,
/// in this process or in <see cref="SweepOptions.Workers"/> worker processes that share the store. Killing any of
/// them loses at most the epoch in flight: rerunning resumes every unfinished run from its checkpoint.
/// </summary>
public static class SweepRunner
{
    /// <summary>Registers the sweep's runs (and, with <see cref="SweepOptions.RetryFailed"/>, sets failed ones back to pending).</summary>
    public static void Register(IResultsStore store, SweepSpec spec, SweepOptions o)
    {
        store.Register(spec.Info, spec.Entries);
        if (o.RetryFailed) store.ResetFailed(spec.Key);
    }

    /// <summary>
    /// One worker: claims runs of <paramref name="sweepKey"/> until none is left or <paramref name="stop"/> is cancelled
    /// (then the run in hand stops after its next checkpoint and is given back); <paramref name="started"/> is told of each claim.
    /// </summary>
    public static List<RunOutcome> Work(IResultsStore store, string sweepKey, SweepOptions o, Action<RunClaim>? started = null,
        Action<RunOutcome>? finished = null, Action<StepProgress>? step = null, CancellationToken stop = default)
    {
        if (o.Threads is { } t) TorchSharp.torch.set_num_threads(t);
        using var data = new RunDataCache(o.DataDir);
        var executor = new RunExecutor(store, o.Folders, data) { Stop = stop, HeartbeatEvery = o.HeartbeatEvery };
        if (step is not null) executor.Step += step;
        var outcomes = new List<RunOutcome>();
        while (!stop.IsCancellationRequested && store.Claim(sweepKey, WorkerInfo.Current, o.LeaseOrDefault) is { } claim)
        {
            started?.Invoke(claim);
            var outcome = executor.Execute(claim, WorkerInfo.Current);
            outcomes.Add(outcome);
            finished?.Invoke(outcome);
        }
        return outcomes;
    }

    /// <summary>
    /// Starts <see cref="SweepOptions.Workers"/> worker processes with <paramref name="workerCommand"/> (given the
    /// worker's index and thread count) and waits for them, passing each output line to <paramref name="log"/>
    /// prefixed by the worker's index. Returns the exit codes.
    /// </summary>
    public static int[] RunWorkers(SweepOptions o, Func<int, int, ProcessStartInfo> workerCommand, Action<string> log, CancellationToken stop = default)
    {
        int threads = o.Threads ?? Math.Max(1, Environment.ProcessorCount / o.Workers);
        var processes = Enumerable.Range(1, o.Workers).Select(i =>
        {
            var info = workerCommand(i, threads);
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.UseShellExecute = false;
            var p = new Process { StartInfo = info };
            p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) log($"[worker {i}] {line}"); };
            p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) log($"[worker {i}] {line}"); };
            if (!p.Start()) throw new InitPruneException($"could not start worker {i} ({info.FileName})");
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return p;
        }).ToList();
        // Asked to stop: pass SIGTERM on, so each worker checkpoints and gives its run back.
        using (stop.Register(() => { foreach (var p in processes) Signals.Terminate(p.Id); }))
            foreach (var p in processes) p.WaitForExit();
        var codes = processes.Select(p => p.ExitCode).ToArray();
        foreach (var p in processes) p.Dispose();
        return codes;
    }

    /// <summary>
    /// Deletes the temporary files that killed writers left in the sweep's folders (the artefact folder, checkpoints/,
    /// runs/*/ and reports/*/); a live writer's temporary file, in this sweep or another on the same store, is kept.
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleTemporaries(SweepFolders folders)
    {
        var now = DateTime.UtcNow;
        IEnumerable<string> Sub(string name) =>
            Directory.Exists(Path.Combine(folders.Root, name)) ? Directory.EnumerateDirectories(Path.Combine(folders.Root, name)) : [];
        return [.. new[] { folders.Root, Path.Combine(folders.Root, "checkpoints") }.Concat(Sub("runs")).Concat(Sub("reports"))
            .SelectMany(f => Artifacts.RemoveStaleTemporaries(f, now))];
    }

    /// <summary>The workers ("host:pid") holding runs of <paramref name="sweepKey"/> that are still running.</summary>
    public static IReadOnlyList<string> Holders(IResultsStore store, string sweepKey) =>
        [.. store.Load(sweepKey).Where(r => r.Status == RunStatus.Running && r.Worker is not null).Select(r => r.Worker!).Distinct()];

    /// <summary>Counts what the store holds for the sweep.</summary>
    public static SweepSummary Summarize(IResultsStore store, SweepSpec spec, int computedNow, double seconds)
    {
        var runs = store.Load(spec.Key);
        return new SweepSummary(spec.Key, store.Location, runs.Count,
            runs.Count(r => r.Status == RunStatus.Done), runs.Count(r => r.Status == RunStatus.Failed),
            runs.Count(r => r.Status is RunStatus.Pending or RunStatus.Running), computedNow, seconds, spec.Notes,
            [.. runs.Where(r => r.Status == RunStatus.Failed).Select(r => $"{r.Id}: {r.Error}")]);
    }
}
