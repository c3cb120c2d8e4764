using System.Diagnostics;
using InitPrune.Pruning;
using InitPrune.Training;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// One run as listed by a sweep: the run, the row label it is reported under, and its coordinates on the
/// sweep's axes before normalization (e.g. method = snip for a dense run normalized to method none).
/// </summary>
public sealed record SweepEntry(RunConfig Config, string Label, IReadOnlyDictionary<string, string> Coordinates);

/// <summary>
/// How a sweep's report is laid out: table rows and columns and the heat map axes are field paths of the
/// entries' coordinates (<c>label</c>, <c>prune.method</c>, <c>prune.sparsity</c>, <c>model.depth</c>, <c>init.name</c>, ...).
/// With <see cref="SelectOver"/> set (e.g. <c>train.lr</c>, the seeds' "lr grid"), each cell reports the value of
/// that field with the best mean <see cref="SelectBy"/> over seeds. <see cref="Rows"/> may join several paths with
/// <c> + </c> (one row per combination, e.g. seed 004's method × init × bias); <see cref="Columns"/> may also be
/// <see cref="KeptFraction"/>, 1 − <c>prune.sparsity</c> (seed 004's ρ). <see cref="LogX"/> and <see cref="LogY"/> put the
/// metric plot's axes on a log scale (numeric columns; positive values).
/// </summary>
public sealed record ReportLayout(
    string Rows = "label",
    string Columns = "prune.sparsity",
    string? HeatmapX = null,
    string? HeatmapY = null,
    string? SelectOver = null,
    string SelectBy = "validation_accuracy",
    string Metric = "test_accuracy",
    bool LogX = false,
    bool LogY = false,
    IReadOnlyList<ReportClaim>? Claims = null)
{
    /// <summary>The derived coordinate ρ = 1 − prune.sparsity, the fraction kept (seed 004 calls it the sparsity).</summary>
    public const string KeptFraction = "prune.kept_fraction";

    /// <summary>Joins the paths of a composite row field.</summary>
    public const string Join = " + ";

    /// <summary>The paths of <paramref name="field"/>: one, or those a composite field joins.</summary>
    public static string[] Parts(string field) => [.. field.Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
}

/// <summary>
/// A claim of a seed checked against a sweep's runs (<c>report.claims</c>): the figure is the mean of
/// <see cref="Metric"/> (the layout's metric when null) over the done runs whose fields equal <see cref="Where"/>; with
/// <see cref="Than"/> the difference (or, with <see cref="Compare"/> = ratio, the ratio) of that mean to the mean over
/// the runs <see cref="Than"/> selects; with <see cref="Slope"/> the least-squares slope of the metric (its natural log
/// when <see cref="Log"/>) against that numeric field. <see cref="Expect"/> is the test the figure must pass for the
/// claim to be confirmed: <c>&gt; x</c>, <c>&gt;= x</c>, <c>&lt; x</c>, <c>&lt;= x</c> or <c>between a and b</c>.
/// <see cref="Paper"/> is the seed's own figure, as text.
/// </summary>
public sealed record ReportClaim(
    string Claim,
    IReadOnlyDictionary<string, string> Where,
    string Expect,
    string? Metric = null,
    IReadOnlyDictionary<string, string>? Than = null,
    string Compare = "difference",
    string? Slope = null,
    bool Log = false,
    string? Paper = null)
{
    /// <summary>The comparison names <see cref="Compare"/> takes.</summary>
    public static readonly string[] Comparisons = ["difference", "ratio"];

    /// <summary>
    /// <see cref="Expect"/> parsed: the operator (<c>&gt;</c>, <c>&gt;=</c>, <c>&lt;</c>, <c>&lt;=</c>, <c>between</c>)
    /// and its bound(s); a one-line error when it is none of them.
    /// </summary>
    public (string Op, double Low, double High) Test()
    {
        var text = Expect.Trim();
        static double Num(string t, string expect) => double.TryParse(t.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new Engine.InitPruneException($"expect = '{expect}': '{t.Trim()}' is not a number; write '> 10', '<= 0.5' or 'between 0.9 and 1.1'");
        if (text.StartsWith("between ", StringComparison.OrdinalIgnoreCase))
        {
            var parts = text[8..].Split(" and ", StringSplitOptions.TrimEntries);
            if (parts.Length != 2) throw new Engine.InitPruneException($"expect = '{Expect}': write 'between a and b'");
            var (a, b) = (Num(parts[0], Expect), Num(parts[1], Expect));
            return a <= b ? ("between", a, b) : throw new Engine.InitPruneException($"expect = '{Expect}': the lower bound is above the upper one");
        }
        foreach (var op in new[] { ">=", "<=", ">", "<" })
            if (text.StartsWith(op, StringComparison.Ordinal))
            {
                var v = Num(text[op.Length..], Expect);
                return (op, v, v);
            }
        throw new Engine.InitPruneException($"expect = '{Expect}' is not a test: write '> 10', '>= 10', '< 0.5', '<= 0.5' or 'between 0.9 and 1.1'");
    }

    /// <summary>Whether <paramref name="figure"/> passes <see cref="Expect"/>.</summary>
    public bool Passes(double figure)
    {
        var (op, low, high) = Test();
        return op switch
        {
            ">" => figure > low,
            ">=" => figure >= low,
            "<" => figure < low,
            "<=" => figure <= low,
            _ => figure >= low && figure <= high,
        };
    }
}

/// <summary>
/// A sweep as registered: <see cref="Key"/> is <c>name@scale</c>; <see cref="Notes"/> holds what the report must
/// say (e.g. "ran on fashion-mnist: mnist was not found"); <see cref="SpecText"/> is the YAML it came from.
/// </summary>
public sealed record SweepInfo(string Key, string Description, string Reproduces, ReportLayout Layout, IReadOnlyList<string> Notes, string SpecText);

/// <summary>A worker process: claims are tied to it, and a claim whose worker is gone can be taken again.</summary>
public sealed record WorkerInfo(string Host, int Pid, long StartedTicks)
{
    public static WorkerInfo Current { get; } = new(Environment.MachineName, Environment.ProcessId, Process.GetCurrentProcess().StartTime.ToUniversalTime().Ticks);

    public override string ToString() => $"{Host}:{Pid}";

    /// <summary>Whether this worker still runs; only answerable on the same host (elsewhere: true, and the heartbeat decides).</summary>
    public bool IsAlive()
    {
        if (Host != Environment.MachineName) return true;
        try
        {
            using var p = Process.GetProcessById(Pid);
            // Start times are derived from the boot time, which each process estimates slightly differently: a
            // recycled pid belongs to a process started later, far more than this tolerance.
            return !p.HasExited && Math.Abs(p.StartTime.ToUniversalTime().Ticks - StartedTicks) < TimeSpan.TicksPerSecond;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}

/// <summary>A run a worker has claimed; <see cref="Attempt"/> counts claims of this run (1 for the first).</summary>
public sealed record RunClaim(string RunId, RunConfig Config, int Attempt);

/// <summary>What pruning did to a run's network.</summary>
public sealed record PruningRecord(
    double ActualSparsity,
    long Kept,
    long Total,
    IReadOnlyList<LayerReport> Layers,
    IReadOnlyDictionary<string, double[]> UnitKeptFractions,
    IReadOnlyList<string> Warnings,
    double Seconds);

/// <summary>Where a run was computed: versions, threads and device.</summary>
public sealed record EnvironmentInfo(
    string InitPruneVersion,
    string Commit,
    string TorchSharpVersion,
    string LibTorchVersion,
    int Threads,
    string Device,
    string Host,
    string Os,
    string Dotnet,
    string? OneDnn = null);

/// <summary>A finished run's final figures.</summary>
public sealed record RunResult(
    double? TestAccuracy,
    double TestLoss,
    double? ValidationAccuracy,
    int Epochs,
    double TrainSeconds,
    double TotalSeconds,
    EnvironmentInfo Environment);

/// <summary>A checkpoint file the store vouches for: its epoch and step count (as in its metadata) and the SHA-256 of its bytes.</summary>
public sealed record CheckpointRecord(int Epoch, long Steps, string Sha256);

/// <summary>Status of a run in the store.</summary>
public enum RunStatus { Pending, Running, Done, Failed }

/// <summary>Everything the store knows about one run (<see cref="HeartbeatAt"/>: its claim's last heartbeat, UTC, by the store's clock).</summary>
public sealed record StoredRun(
    string Id,
    RunConfig Config,
    RunStatus Status,
    int Attempts,
    string? Worker,
    string? Error,
    IReadOnlyList<EpochMetrics> Epochs,
    PruningRecord? Pruning,
    RunResult? Result,
    IReadOnlyList<(string Sweep, string Label, IReadOnlyDictionary<string, string> Coordinates)> Entries,
    IReadOnlyList<JacobianPoint>? Jacobian = null,
    DateTime? HeartbeatAt = null)
{
    /// <summary>The recorded ‖J‖ series in step order (empty when the run tracked none).</summary>
    public IReadOnlyList<JacobianPoint> JacobianSeries => Jacobian ?? [];
}

/// <summary>
/// Where sweeps keep their runs and results. SQLite (<see cref="SqliteResultsStore"/>) is the default; a server
/// database can implement the same contract so workers on many machines share one store. Every method is
/// atomic and may be called from several threads (a run renews its heartbeat from a timer); <see cref="Claim"/> never
/// hands the same run to two live workers.
/// </summary>
public interface IResultsStore : IDisposable
{
    /// <summary>Where the store lives (a file path or a connection description), for messages.</summary>
    string Location { get; }

    /// <summary>
    /// Saves the sweep (replacing its description, layout and notes), adds the runs not yet known as pending and
    /// links every entry to the sweep (idempotent: registering again adds nothing twice).
    /// </summary>
    void Register(SweepInfo sweep, IReadOnlyList<SweepEntry> entries);

    /// <summary>
    /// Takes one pending run of <paramref name="sweep"/> (in registration order) for <paramref name="worker"/>,
    /// or one whose worker died (<see cref="WorkerInfo.IsAlive"/> false) or whose heartbeat is older than
    /// <paramref name="lease"/>; null when none is left.
    /// </summary>
    RunClaim? Claim(string sweep, WorkerInfo worker, TimeSpan lease);

    /// <summary>Marks the claim as still alive.</summary>
    void Heartbeat(string runId, WorkerInfo worker);

    /// <summary>Gives a claimed run back as pending (its worker was asked to stop); does nothing when <paramref name="worker"/> no longer holds it.</summary>
    void Release(string runId, WorkerInfo worker);

    /// <summary>Stores one epoch's metrics (replacing that epoch if a resumed run computes it again).</summary>
    void RecordEpoch(string runId, EpochMetrics metrics);

    /// <summary>The stored epochs of one run, in order (those of earlier attempts included).</summary>
    IReadOnlyList<EpochMetrics> Epochs(string runId);

    void RecordPruning(string runId, PruningRecord record);

    /// <summary>Stores one recorded ‖J‖ (replacing that step if a resumed run measures it again).</summary>
    void RecordJacobian(string runId, JacobianPoint point);

    /// <summary>The recorded ‖J‖ of one run, in step order.</summary>
    IReadOnlyList<JacobianPoint> Jacobian(string runId);

    /// <summary>
    /// Replaces the checkpoints the store vouches for: the one being put in place and the one before it (so a process
    /// that dies before the rename leaves a checkpoint the store still vouches for).
    /// </summary>
    void RecordCheckpoints(string runId, IReadOnlyList<CheckpointRecord> checkpoints);

    /// <summary>The checkpoints the store vouches for (empty when none was recorded, e.g. in a store from before schema 2).</summary>
    IReadOnlyList<CheckpointRecord> Checkpoints(string runId);

    /// <summary>Marks the run done with its final figures.</summary>
    void Complete(string runId, RunResult result);

    /// <summary>Marks the run failed with a one-line reason (kept until <see cref="ResetFailed"/>).</summary>
    void Fail(string runId, string error);

    /// <summary>Sets the failed runs of <paramref name="sweep"/> back to pending; returns how many.</summary>
    int ResetFailed(string sweep);

    /// <summary>The runs of <paramref name="sweep"/> (all runs when null), in registration order.</summary>
    IReadOnlyList<StoredRun> Load(string? sweep = null);

    /// <summary>The sweeps registered so far, in registration order.</summary>
    IReadOnlyList<SweepInfo> Sweeps();

    /// <summary>The rows of <paramref name="sweeps"/> (every sweep when null), their runs and those runs' epochs and ‖J‖, as stored.</summary>
    StoreDump Dump(IReadOnlyCollection<string>? sweeps = null);

    /// <summary>
    /// Adds the rows of <paramref name="dump"/> in one transaction. A sweep this store already holds is refused, and so is
    /// a run it holds with other results; a run it holds as it is (shared with another sweep) is kept. Nothing is written
    /// when something is refused. Returns how many of the dump's runs were here already.
    /// </summary>
    int Restore(StoreDump dump);
}
