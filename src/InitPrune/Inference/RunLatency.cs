using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>
/// What <c>report --latency</c> measures, declared once (the command-line options come from here): each done run's
/// sparse network (the one <c>export --run</c> writes, built in memory) against its dense masked TorchSharp forward pass.
/// </summary>
public sealed record LatencySettings(
    [Opt("Also time, at report time, each done run's sparse network (what export --run writes, built in memory) against its dense masked TorchSharp forward pass: per group a table and a plot of the metric against measured latency (timings vary between machines and runs)")] bool Latency = false,
    [Opt("With --latency: samples per timed forward pass", Min = 1)] int LatencyBatch = 1,
    [Opt("With --latency: threads of both forward passes (0: every core)", Min = 0)] int LatencyThreads = 1)
{
    /// <summary>The threads both forward passes run on (0 resolved to every core).</summary>
    public int Threads => LatencyThreads == 0 ? Environment.ProcessorCount : LatencyThreads;

    /// <summary>A one-line error when a value is impossible (as the command line checks it).</summary>
    public void Check()
    {
        var values = Param.ValuesOf(this);
        foreach (var p in Param.Of(typeof(LatencySettings)))
        {
            if (p.Problem(values[p.Key]) is { } advice)
                throw new InitPruneException($"{p.Flag} {values[p.Key]} is impossible: {advice}");
        }
    }
}

/// <summary>
/// One run's latency: the medians of one forward pass (seconds) of its sparse network (managed kernels) and of its dense
/// masked network, the speed-up dense ÷ sparse, and how the two agree on the timing batch (predicted classes, largest
/// |logit difference| relative to max(1, max |dense logit|)); or, when it was not measured, <see cref="NotMeasured"/>.
/// </summary>
public sealed record RunLatency(
    string Id,
    string Model,
    double? SparseSeconds = null,
    double? DenseSeconds = null,
    int Samples = 0,
    int PredictionsAgreeing = 0,
    double? MaxLogitDiff = null,
    long StoredParameters = 0,
    string? NotMeasured = null)
{
    public double? Speedup => SparseSeconds is > 0 && DenseSeconds is { } d ? d / SparseSeconds : null;

    [JsonIgnore]
    public bool Measured => NotMeasured is null;
}

/// <summary>The latencies of a sweep's done runs and the conditions they were measured under (machine, threads, batch, repetitions).</summary>
public sealed record RunLatencies(
    string Cpu,
    int Cores,
    int Threads,
    int Batch,
    int MaxRepetitions,
    double SecondsPerPath,
    bool Vectorized,
    string LibTorch,
    IReadOnlyList<RunLatency> Runs)
{
    /// <summary>The line the report prints with the latency plots and tables.</summary>
    public string Describe() =>
        $"Latency measured at report time (not stored: it varies between machines and runs) on {Cpu} ({Cores} cores), {Threads} thread{(Threads == 1 ? "" : "s")}, batch {Batch}, " +
        $"libtorch {LibTorch}: per run the median of up to {MaxRepetitions} timed forward passes (at least 3, about {SecondsPerPath.ToString(System.Globalization.CultureInfo.InvariantCulture)} s per path) after one warm-up, " +
        $"of the sparse network export builds (managed kernels{(Vectorized ? ", AVX2" : "")}) and of the dense masked TorchSharp network (CPU, eval, no_grad), on one fixed input batch (uniform [0, 1), seed 0).";
}

/// <summary>
/// Times sweep runs' forward passes for <c>report --latency</c>: the sparse network (<see cref="SparseExport.InMemory"/>
/// of <c>runs/&lt;id&gt;/final.safetensors</c> under <c>mask.safetensors</c>, or the weights' zeros without one, as
/// <c>export --run</c> does) against the dense network of the run's settings with the same weights and mask installed.
/// Both see the same fixed input batch; their predictions on it are compared, so a wrong sparse network shows.
/// </summary>
public static class RunLatencyBench
{
    /// <summary>Timed forward passes per run and path at most (after one warm-up), and the seconds after which timing stops (never below 3 timings).</summary>
    public const int MaxRepetitions = 21;

    public const double SecondsPerPath = 0.5;

    /// <summary>Measures every run in <paramref name="runs"/> (done runs) whose artefacts are under <paramref name="artifactRoot"/>; the others come back not measured, with the reason.</summary>
    public static RunLatencies Measure(IEnumerable<StoredRun> runs, string artifactRoot, LatencySettings s, Action<RunLatency>? progress = null)
    {
        s.Check();
        var folders = new SweepFolders(Path.GetFullPath(artifactRoot));
        var results = new List<RunLatency>();
        int torchThreads = get_num_threads();
        try
        {
            set_num_threads(s.Threads);
            foreach (var run in runs)
            {
                var r = One(run, folders, s);
                results.Add(r);
                progress?.Invoke(r);
            }
        }
        finally
        {
            set_num_threads(torchThreads);
        }
        return new RunLatencies(InferenceBench.CpuInfo().Cpu, Environment.ProcessorCount, s.Threads, s.LatencyBatch, MaxRepetitions, SecondsPerPath,
            SparseKernels.Vectorized, __version__, results);
    }

    /// <summary>The fixed timing batch: <paramref name="size"/> values per sample, uniform in [0, 1), seed 0.</summary>
    public static float[] Inputs(int batch, int size)
    {
        var rng = new Random(0);
        var a = new float[(long)batch * size];
        for (long i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
        return a;
    }

    static RunLatency One(StoredRun run, SweepFolders folders, LatencySettings s)
    {
        var model = run.Config.Model.Name;
        if (!SweepFolders.IsRunId(run.Id)) return new RunLatency(FileNames.Safe(run.Id), model, NotMeasured: "its id is not a run id, so it has no artefact folder");
        var weights = folders.FinalWeightsOf(run.Id);
        if (!File.Exists(weights)) return new RunLatency(run.Id, model, NotMeasured: $"no final weights at {weights} (pass the sweep's --artifacts)");
        var maskPath = Path.Combine(folders.RunFolder(run.Id), "mask.safetensors");
        try
        {
            return Time(run, weights, File.Exists(maskPath) ? maskPath : null, s);
        }
        catch (Exception e) when (e is InitPruneException or ArgumentException or KeyNotFoundException or ExternalException)
        {
            return new RunLatency(run.Id, model, NotMeasured: CheckpointFormat.OneLine(e.Message));
        }
    }

    static RunLatency Time(StoredRun run, string weightsPath, string? maskPath, LatencySettings s)
    {
        var settings = run.Config.Model;
        var (shape, outputs) = DatasetRegistry.NominalShape(run.Config.Data.Name);
        using var split = StateDictLayout.Read(weightsPath, "weights file");
        using var mask = maskPath is null ? null : Mask.Load(maskPath);
        var sparse = SparseExport.InMemory(split.Weights, mask?.Tensors, settings.Name, settings.Activation, shape, settings.Padding,
            shortcut: SparseExport.ShortcutOf(settings), stable: settings.Stable);
        using var dense = ModelRegistry.Create(run.Config.ToModelSpec(), shape, outputs);
        Network.LoadStateDict(dense, split.Weights, weightsPath);
        mask?.ApplyTo(dense);
        dense.eval();

        int batch = s.LatencyBatch, threads = s.Threads;
        var inputs = Inputs(batch, sparse.InputSize);
        using var x = tensor(inputs, [batch, .. sparse.InputShape]);
        float[] DenseForward()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return dense.forward(x).to(ScalarType.Float32).contiguous().data<float>().ToArray();
        }
        var reference = DenseForward();
        var logits = sparse.Forward(inputs, batch, threads);
        var (agreeing, diff) = Compare(reference, logits, batch);
        var timing = new InferenceBenchOptions(Repetitions: MaxRepetitions, SecondsPerCell: SecondsPerPath);
        double denseSeconds = InferenceBench.Median(timing, () => DenseForward());
        double sparseSeconds = InferenceBench.Median(timing, () => sparse.Forward(inputs, batch, threads));
        return new RunLatency(run.Id, settings.Name, sparseSeconds, denseSeconds, batch, agreeing, diff, sparse.StoredParameters);
    }

    /// <summary>Samples whose predicted class (first largest logit) is the same, and the largest |difference| relative to max(1, max |reference|).</summary>
    internal static (int Agreeing, double Diff) Compare(float[] reference, float[] got, int batch)
    {
        if (reference.Length != got.Length)
            throw new InitPruneException($"the sparse network gives {got.Length} logits for the batch but the dense one {reference.Length}: the run's weights do not fit its settings");
        int classes = reference.Length / batch, agreeing = 0;
        for (int i = 0; i < batch; i++)
            if (ArgMax(reference.AsSpan(i * classes, classes)) == ArgMax(got.AsSpan(i * classes, classes))) agreeing++;
        double scale = Math.Max(1, reference.Length == 0 ? 0 : reference.Max(MathF.Abs)), worst = 0;
        for (int i = 0; i < reference.Length; i++) worst = Math.Max(worst, Math.Abs(reference[i] - got[i]));
        return (agreeing, worst / scale);
    }

    static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
        return best;
    }
}
