using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Training;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// What <c>initprune sweep</c> asks for. <see cref="Out"/> is the results folder that gives the defaults: the store
/// <c>&lt;out&gt;/store.sqlite</c> unless <see cref="Store"/> names another location, and the artefact folder (checkpoints,
/// final weights, the summary) <c>&lt;out&gt;</c> unless <see cref="Artifacts"/> names another. <see cref="TensorBoard"/>
/// is a folder that gets one subfolder of event files per run (null: none).
/// </summary>
public sealed record SweepRequest(
    string SpecPath,
    string Scale = "full",
    string Out = Sweep.DefaultOut,
    string? Store = null,
    string? Artifacts = null,
    string? DataDir = null,
    string? TensorBoard = null,
    int Workers = 1,
    int? Threads = null,
    bool RetryFailed = false,
    TimeSpan? Lease = null)
{
    public string StoreLocation => Store ?? ResultsStores.DefaultIn(Out);

    public string ArtifactRoot => Artifacts ?? Out;

    public SweepOptions Options => new(StoreLocation, ArtifactRoot, Workers, DataDir, TensorBoard, RetryFailed, Threads, Lease);
}

/// <summary>One run of a sweep as listed by a dry run: its id, row label, coordinates on the sweep's axes and settings.</summary>
public sealed record PlannedRun(string Id, string Label, IReadOnlyDictionary<string, string> Coordinates, RunConfig Settings);

/// <summary>A spec expanded at one scale, before anything is computed.</summary>
public sealed class SweepPlan
{
    readonly Dictionary<string, SweepEntry> byId;
    readonly List<string> varying;

    public SweepPlan(SweepSpec spec)
    {
        Spec = spec;
        byId = spec.Entries.GroupBy(e => e.Config.Id).ToDictionary(g => g.Key, g => g.First());
        varying = [.. spec.Entries.SelectMany(e => e.Coordinates.Keys).Distinct()
            .Where(k => k != "label" && spec.Entries.GroupBy(e => e.Label).Any(g => g.Select(e => e.Coordinates.GetValueOrDefault(k)).Distinct().Count() > 1))];
    }

    public SweepSpec Spec { get; }

    /// <summary>Every entry of the spec (a run shared by several entries, such as a dense run, is listed under each).</summary>
    public IReadOnlyList<PlannedRun> Runs => [.. Spec.Entries.Select(e => new PlannedRun(e.Config.Id, e.Label, e.Coordinates, e.Config))];

    /// <summary>"label, axis value, ..." for a run id, naming only the axes that vary under one label; the id itself when unknown.</summary>
    public string Describe(string runId) => byId.TryGetValue(runId, out var e)
        ? string.Join(", ", new[] { e.Label }.Concat(varying.Select(k => $"{k.Split('.').Last()} {e.Coordinates.GetValueOrDefault(k)}")))
        : runId;
}

/// <summary>What a sweep holds when its runs have been registered, before any is computed.</summary>
public sealed record SweepStart(SweepSummary Counts, string Store, IReadOnlyList<string> Notes);

/// <summary>A run a worker of this process has claimed.</summary>
public sealed record RunStart(string RunId, string Description);

/// <summary>A run a worker of this process has finished (done or failed); <see cref="Done"/> counts the sweep's done runs so far.</summary>
public sealed record RunEnd(RunOutcome Outcome, string Description, int Done, int Runs);

/// <summary>
/// What a sweep tells its caller while it runs. <see cref="WorkerCommand"/> supplies the command line of worker
/// process <c>index</c> (1-based) with <c>threads</c> threads: the caller knows its own executable and options.
/// </summary>
public sealed class SweepCallbacks
{
    public Action<SweepStart>? Registered { get; init; }
    public Action<RunStart>? RunStarted { get; init; }
    public Action<StepProgress>? Step { get; init; }
    public Action<RunEnd>? RunFinished { get; init; }

    /// <summary>Each output line of a worker process, prefixed with "[worker i] ".</summary>
    public Action<string>? WorkerOutput { get; init; }

    public Func<int, int, ProcessStartInfo>? WorkerCommand { get; init; }
}

/// <summary>What a sweep left: the store's counts (<see cref="Summary"/>, also written to <see cref="SummaryFile"/>), the worker processes' exit codes, and the workers of another live sweep holding the runs left.</summary>
public sealed record SweepResult(SweepSummary Summary, string Store, string SummaryFile, IReadOnlyList<int> WorkerExitCodes, IReadOnlyList<string> HeldBy)
{
    public bool WorkersCrashed => WorkerExitCodes.Any(c => c != 0);
}

/// <summary>A run being computed: its worker (<c>host:pid</c>), the age of its last heartbeat and the epochs it has recorded.</summary>
public sealed record RunningRun(string RunId, string Description, string Worker, double? HeartbeatAgeSeconds, int Epochs);

/// <summary>
/// <c>sweep status</c>: what the store holds for a sweep (done, running with worker and heartbeat age, failed with
/// reasons, pending) and its Slurm jobs still queued or running (null, with the reason in <see cref="SlurmNote"/>, when
/// Slurm is not installed or not reachable here).
/// </summary>
public sealed record SweepStatus(string Sweep, string Store, int Runs, int Done, int Running, int Failed, int Pending,
    IReadOnlyList<RunningRun> RunningRuns, IReadOnlyList<string> Failures, IReadOnlyList<SlurmJob>? SlurmJobs, string? SlurmNote);

/// <summary>
/// A sweep from request to summary: expand the spec, open the store (<see cref="ResultsStores"/>), register the runs,
/// compute them in this process or in worker processes, and write the summary to the artefact folder.
/// </summary>
public static class Sweep
{
    /// <summary>The results folder when none is given.</summary>
    public const string DefaultOut = "./initprune-results";

    /// <summary>Checks the request and expands its spec; computes nothing (a dry run).</summary>
    public static SweepPlan Plan(SweepRequest r)
    {
        if (r.Workers < 1) throw new InitPruneException($"--workers {r.Workers} is impossible: use at least 1");
        if (r.Threads is < 1) throw new InitPruneException("--threads must be at least 1");
        if (r.Lease is { } lease && lease < TimeSpan.FromSeconds(1))
            throw new InitPruneException($"--lease {lease.TotalSeconds:0.###} is too short: a claim must outlive a heartbeat; use at least 1 second (default {SweepOptions.DefaultLease.TotalSeconds:0})");
        return new SweepPlan(SpecLoader.Load(r.SpecPath, r.Scale, r.DataDir));
    }

    /// <summary>
    /// Runs the sweep to the end: every run left is computed once (resumed from its checkpoint when one exists). With
    /// <see cref="SweepRequest.Workers"/> above 1 the runs are computed by worker processes started with
    /// <see cref="SweepCallbacks.WorkerCommand"/>, each of which calls <see cref="Work"/>.
    /// </summary>
    public static SweepResult Run(SweepRequest r, SweepCallbacks? callbacks = null, CancellationToken stop = default)
    {
        var cb = callbacks ?? new SweepCallbacks();
        var plan = Plan(r);
        var o = r.Options;
        if (r.Workers > 1 && cb.WorkerCommand is null)
            throw new ArgumentException("a sweep with several workers needs SweepCallbacks.WorkerCommand", nameof(callbacks));
        // Every location is checked before anything is created; the folders are created after the store opens.
        Artifacts.CheckPath(r.Out, "--out");
        var artifactsOption = r.Artifacts is null ? "--out" : "--artifacts";
        Artifacts.CheckPath(o.Artifacts, artifactsOption);
        if (o.TensorBoard is not null) Artifacts.CheckPath(o.TensorBoard, "--tensorboard");
        var location = ResultsStores.Parse(o.Store);
        var clock = Stopwatch.StartNew();
        using var store = ResultsStores.Open(o.Store);
        Artifacts.PrepareOutput(o.Artifacts, artifactsOption);
        if (o.TensorBoard is { } tb) Artifacts.PrepareOutput(tb, "--tensorboard");
        var spec = plan.Spec;
        SweepRunner.RemoveStaleTemporaries(o.Folders);
        SweepRunner.Register(store, spec, o);
        var before = SweepRunner.Summarize(store, spec, 0, 0);
        cb.Registered?.Invoke(new SweepStart(before, location.Display, spec.Notes));

        int[] codes = [];
        if (r.Workers == 1)
        {
            int done = before.Done;
            SweepRunner.Work(store, spec.Key, o,
                started: c => cb.RunStarted?.Invoke(new RunStart(c.RunId, plan.Describe(c.RunId))),
                finished: x => cb.RunFinished?.Invoke(new RunEnd(x, plan.Describe(x.RunId), x.Done ? ++done : done, before.Runs)),
                step: cb.Step, stop: stop);
        }
        else
            codes = SweepRunner.RunWorkers(o, cb.WorkerCommand!, line => cb.WorkerOutput?.Invoke(line), stop);

        var after = SweepRunner.Summarize(store, spec, 0, clock.Elapsed.TotalSeconds);
        var summary = after with { ComputedNow = after.Done + after.Failed - before.Done - before.Failed };
        var file = Path.Combine(o.Folders.Root, $"sweep-{SweepSpec.FileName(spec.Key)}.json");
        Artifacts.WriteJson(file, summary);
        var heldBy = summary.Pending > 0 ? SweepRunner.Holders(store, spec.Key) : [];
        return new SweepResult(summary, location.Display, file, codes, heldBy);
    }

    /// <summary>The sweep's state in its store (which must exist and hold the sweep) and its Slurm jobs.</summary>
    public static SweepStatus Status(SweepRequest r)
    {
        var plan = Plan(r);
        var key = plan.Spec.Key;
        using var store = ResultsStores.Open(r.StoreLocation, mustExist: true);
        if (!store.Sweeps().Any(s => s.Key == key))
            throw new InitPruneException($"the store {ResultsStores.Parse(r.StoreLocation).Display} holds no sweep '{key}': start it with 'initprune sweep SPEC' (or --slurm), or pass its --store");
        var runs = store.Load(key);
        var now = DateTime.UtcNow;
        var running = runs.Where(x => x.Status == RunStatus.Running).Select(x => new RunningRun(x.Id, plan.Describe(x.Id), x.Worker ?? "unknown",
            x.HeartbeatAt is { } h ? Math.Round((now - h).TotalSeconds, 1) : null, x.Epochs.Count(e => e.Epoch > 0))).ToList();
        return new SweepStatus(key, store.Location, runs.Count, runs.Count(x => x.Status == RunStatus.Done), running.Count,
            runs.Count(x => x.Status == RunStatus.Failed), runs.Count(x => x.Status == RunStatus.Pending), running,
            [.. runs.Where(x => x.Status == RunStatus.Failed).Select(x => $"{x.Id}: {x.Error}")], Slurm.Jobs(key, out var why), why);
    }

    /// <summary>
    /// One worker process of a sweep started by <see cref="Run"/>: claims and computes runs of the request's sweep
    /// until none is left. Its counts are not the sweep's (other workers share the store): <see cref="RunEnd.Done"/> is 0.
    /// </summary>
    public static IReadOnlyList<RunOutcome> Work(SweepRequest r, SweepCallbacks? callbacks = null, CancellationToken stop = default)
    {
        var cb = callbacks ?? new SweepCallbacks();
        var plan = Plan(r);
        var o = r.Options;
        using var store = ResultsStores.Open(o.Store);
        // Registering again is idempotent, and lets a worker start a sweep nobody registered (a script from --slurm --dry-run).
        SweepRunner.Register(store, plan.Spec, o with { RetryFailed = false });
        return SweepRunner.Work(store, plan.Spec.Key, o,
            started: c => cb.RunStarted?.Invoke(new RunStart(c.RunId, plan.Describe(c.RunId))),
            finished: x => cb.RunFinished?.Invoke(new RunEnd(x, plan.Describe(x.RunId), 0, 0)),
            step: cb.Step, stop: stop);
    }
}
