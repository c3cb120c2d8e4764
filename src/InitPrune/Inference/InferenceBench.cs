using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>
/// What <c>initprune bench --inference</c> measures. Models: <c>lenet300</c> (784-300-100-10), <c>mlp5x1000</c>
/// (784-1000⁵-10), <c>vgg16</c>, <c>vgg16-bn</c> and <c>resnet32</c> (CIFAR shapes, 3 × 32 × 32; shortcut B; BatchNorm folded into the sparse file),
/// and, when asked for, <c>conv4</c> (Conv-4, 3 × 32 × 32; not in <see cref="DefaultModels"/>); threads 0 means all cores. Each cell is timed at most <paramref name="Repetitions"/> times and
/// stops early after <paramref name="SecondsPerCell"/> (never below 3 timings). <paramref name="PyTorchScript"/>:
/// tests/pytorch/sparse_bench.py, run with Debian's Python on the same sparse files.
/// </summary>
public sealed record InferenceBenchOptions(
    IReadOnlyList<string>? Models = null,
    IReadOnlyList<double>? Sparsities = null,
    IReadOnlyList<int>? Batches = null,
    IReadOnlyList<int>? Threads = null,
    int Repetitions = 101,
    double SecondsPerCell = 1.5,
    long Seed = 0,
    string? PyTorchScript = null)
{
    public static readonly IReadOnlyList<string> DefaultModels = ["lenet300", "mlp5x1000", "vgg16", "vgg16-bn", "resnet32"];
    public static readonly IReadOnlyList<double> DefaultSparsities = [0, 0.5, 0.9, 0.95, 0.99, 0.998];
    public static readonly IReadOnlyList<int> DefaultBatches = [1, 100, 256];
    public static readonly IReadOnlyList<int> DefaultThreads = [1, 0];
}

/// <summary>
/// One row: a model at one sparsity, batch and thread count. Seconds are medians of one forward pass:
/// the masked dense network in TorchSharp (eval, no_grad), the sparse file with the managed kernel and with libtorch's
/// sparse (COO) kernel (MLPs only: NaN for conv nets), and PyTorch's <c>torch.sparse_csr_tensor</c> on the same file
/// when asked. Speedups are dense over sparse, measured in the same run. UsefulGflops counts 2 flops per kept
/// multiply-add and sample (a kept weight once per output position in a convolution: the work a sparse kernel cannot
/// skip) over the faster of our two sparse times; DenseGflops the dense network's multiply-adds over its time. Agreement is the largest |difference| of the logits,
/// relative to max(1, max |dense logit|), of each sparse path against the dense network.
/// </summary>
public sealed record InferenceBenchRow(
    string Model,
    double Sparsity,
    double Density,
    long KeptWeights,
    long DenseWeights,
    int HiddenUnitsRemoved,
    bool BatchNormFolded,
    int Batch,
    int Threads,
    double DenseSeconds,
    double ManagedSeconds,
    double TorchSparseSeconds,
    double? PyTorchCsrSeconds,
    string Best,
    double ManagedSpeedup,
    double TorchSparseSpeedup,
    double BestSpeedup,
    double? AheadOfPyTorch,
    double UsefulGflops,
    double DenseGflops,
    double ManagedDiff,
    double TorchSparseDiff);

/// <summary>Per model, batch and threads: the lowest sparsity of the grid from which on the sparse file beats the dense network (null: never).</summary>
public sealed record InferenceCrossover(string Model, string LayerType, int Batch, int Threads, double? Sparsity);

/// <summary>Everything <c>inference.json</c> holds.</summary>
public sealed record InferenceBenchReport(
    string Cpu,
    int Cores,
    double? CpuGhz,
    double? PeakGflops,
    bool Vectorized,
    string LoadAverage,
    string LibTorch,
    long ParallelWork,
    string Note,
    IReadOnlyList<InferenceBenchRow> Rows,
    IReadOnlyList<InferenceCrossover> Crossovers);

/// <summary>
/// <c>initprune bench --inference</c>: latency (batch 1) and throughput (larger batches) of the MLP family, dense
/// TorchSharp against the compact sparse file (<see cref="SparseExport.Compact"/>, every layer CSR) with the managed
/// and the libtorch kernel, at a grid of sparsities (layerwise random pruning: each weight matrix keeps the same random
/// fraction), on one thread and on all. Times are medians; nothing is asserted about them.
/// </summary>
public static class InferenceBench
{
    public const string PyTorchPython = "/usr/bin/python3";

    /// <summary>The model names the bench knows, their specs and sample shapes.</summary>
    public static (ModelSpec Spec, long[] Shape) Spec(string model) => model switch
    {
        "lenet300" => (new ModelSpec("lenet300"), [784]),
        "mlp5x1000" => (new ModelSpec("mlp", Depth: 5, Width: 1000), [784]),
        "vgg16" or "vgg16-bn" or "resnet32" or "conv4" => (new ModelSpec(model), [3, 32, 32]),
        _ => throw new InitPruneException($"bench --inference knows the models lenet300, mlp5x1000, vgg16, vgg16-bn, resnet32 and conv4, not '{model}'"),
    };

    public static InferenceBenchReport RunInto(string outDir, InferenceBenchOptions o, Action<InferenceBenchRow?, string?>? progress = null)
    {
        var models = o.Models ?? InferenceBenchOptions.DefaultModels;
        var sparsities = o.Sparsities ?? InferenceBenchOptions.DefaultSparsities;
        var batches = o.Batches ?? InferenceBenchOptions.DefaultBatches;
        var threads = (o.Threads ?? InferenceBenchOptions.DefaultThreads).Select(t => t == 0 ? Environment.ProcessorCount : t).Distinct().ToList();
        foreach (var m in models) Spec(m);
        if (sparsities.Any(s => !(s >= 0 && s < 1))) throw new InitPruneException("--sparsities must lie in [0, 1)");
        if (batches.Any(b => b < 1)) throw new InitPruneException("--batch-sizes must be 1 or more");
        if (threads.Any(t => t < 1)) throw new InitPruneException("--threads must be 1 or more (0 or 'all': every core)");
        if (o.Repetitions < 1) throw new InitPruneException($"--repetitions {o.Repetitions} is impossible: use at least 1");
        if (o.PyTorchScript is { } script && !File.Exists(script)) throw new InitPruneException($"the PyTorch benchmark script {script} is missing");
        var dir = Artifacts.PrepareOutput(outDir);
        var filesDir = Path.Combine(dir, "models");
        if (o.PyTorchScript is not null) Directory.CreateDirectory(filesDir);

        string load = ReadLoad();
        int torchThreads = get_num_threads();
        var rows = new List<InferenceBenchRow>();
        var files = new List<(string Model, double Sparsity, string Path)>();
        try
        {
            foreach (var name in models)
            {
                foreach (var s in sparsities)
                {
                    var (sparse, dense, denseWeights) = Build(name, s, o.Seed);
                    using var denseModel = dense;
                    if (o.PyTorchScript is not null)
                    {
                        var path = Path.Combine(filesDir, $"{name}-s{s.ToString(CultureInfo.InvariantCulture)}.sparse.safetensors");
                        sparse.Save(path);
                        files.Add((name, s, path));
                    }
                    var mlp = sparse as SparseModel;
                    var (convs, linear, macs) = sparse switch
                    {
                        SparseConvNet c => (c.Convs, new[] { c.Classifier }, c.MultiplyAdds()),
                        SparseResNet r => (r.AllConvs.ToList(), new[] { r.Classifier }, r.MultiplyAdds()),
                        SparseConvHeadNet h => (h.Convs, h.Layers, h.MultiplyAdds()),
                        _ => ((IReadOnlyList<SparseConv>)[], (IReadOnlyList<SparseLayer>)[], default),
                    };
                    long kept = mlp?.Layers.Sum(l => l.Nonzeros) ?? convs.Sum(c => c.Nonzeros) + linear.Sum(l => l.Nonzeros);
                    int removed = mlp?.Layers.Sum(l => l.OriginalOutFeatures - l.OutFeatures)
                        ?? convs.Sum(c => c.OriginalOutChannels - c.OutChannels) + linear.Sum(l => l.OriginalOutFeatures - l.OutFeatures);
                    var (usefulPerSample, densePerSample) = mlp is null ? macs : (kept, denseWeights);
                    var torchLayers = mlp?.ToTorch() ?? [];
                    try
                    {
                        var torchKernels = mlp?.Layers.Select(_ => KernelKind.Torch).ToList();
                        foreach (var batch in batches)
                        {
                            var inputs = Inputs(batch, sparse.InputSize, o.Seed);
                            using var x = torch.tensor(inputs, [batch, .. sparse.InputShape]);
                            float[] DenseForward()
                            {
                                using var scope = NewDisposeScope();
                                using var _ = no_grad();
                                return denseModel.forward(x).data<float>().ToArray();
                            }
                            var reference = DenseForward();
                            double managedDiff = Diff(reference, sparse.Forward(inputs, batch));
                            double torchDiff = mlp is null ? double.NaN : Diff(reference, mlp.Forward(inputs, batch, torchKernels, torchLayers));
                            foreach (var t in threads)
                            {
                                set_num_threads(t);
                                double denseS = Median(o, () =>
                                {
                                    using var scope = NewDisposeScope();
                                    using var _ = no_grad();
                                    denseModel.forward(x);
                                });
                                double managedS = Median(o, () => sparse.Forward(inputs, batch, threads: t));
                                double torchS = double.NaN;
                                try
                                {
                                    if (mlp is not null) torchS = Median(o, () => mlp.Forward(inputs, batch, torchKernels, torchLayers));
                                }
                                catch (System.Runtime.InteropServices.ExternalException e)
                                {
                                    progress?.Invoke(null, $"libtorch's sparse kernel failed ({IO.CheckpointFormat.OneLine(e.Message)}): its time is NaN in this row");
                                }
                                double bestS = double.IsNaN(torchS) ? managedS : Math.Min(managedS, torchS);
                                var row = new InferenceBenchRow(name, s, denseWeights == 0 ? 0 : (double)kept / denseWeights, kept, denseWeights, removed, convs.Any(c => c.BatchNormFolded),
                                    batch, t, denseS, managedS, torchS, null, bestS == managedS ? "managed" : "torch",
                                    denseS / managedS, denseS / torchS, denseS / bestS, null,
                                    2.0 * usefulPerSample * batch / bestS / 1e9, 2.0 * densePerSample * batch / denseS / 1e9, managedDiff, torchDiff);
                                rows.Add(row);
                                progress?.Invoke(row, null);
                            }
                        }
                    }
                    finally
                    {
                        foreach (var l in torchLayers) l.Dispose();
                    }
                }
            }
        }
        finally
        {
            set_num_threads(torchThreads);
        }
        if (o.PyTorchScript is { } py) rows = WithPyTorch(rows, py, files, batches, threads, o);

        var crossovers = new List<InferenceCrossover>();
        foreach (var g in rows.GroupBy(r => (r.Model, r.Batch, r.Threads)))
        {
            var ordered = g.OrderBy(r => r.Sparsity).ToList();
            int first = ordered.Count;
            while (first > 0 && ordered[first - 1].BestSpeedup > 1) first--;
            crossovers.Add(new InferenceCrossover(g.Key.Model, Spec(g.Key.Model).Shape.Length == 3 ? "conv" : "linear", g.Key.Batch, g.Key.Threads,
                first < ordered.Count ? ordered[first].Sparsity : null));
        }
        var (cpu, ghz) = CpuInfo();
        // AVX2 with two 256-bit FMA pipes: 2 × 8 lanes × 2 flops per cycle and core.
        double? peak = ghz is { } f && SparseKernels.Vectorized ? Environment.ProcessorCount * 32 * f : null;
        var report = new InferenceBenchReport(cpu, Environment.ProcessorCount, ghz, peak, SparseKernels.Vectorized, load + " → " + ReadLoad(), torch.__version__,
            SparseKernels.ParallelWork,
            "Medians of one forward pass in seconds; the machine may be shared, so single figures are noisy. The sparse file is SparseExport.Compact (MLPs), CompactConvNet (VGGs), CompactResNet (ResNets; BatchNorm folded) or InMemory (Conv-4) of the masked weights, every layer CSR, dead units and channels removed; libtorch's sparse kernel runs MLPs only.",
            rows, crossovers);
        Artifacts.WriteJson(Path.Combine(dir, "inference.json"), report);
        return report;
    }

    /// <summary>
    /// The dense network (eval mode) with a layerwise random mask applied, its sparse file (every layer CSR) and its
    /// weight count. BatchNorm gets random eval statistics, so folding it changes the weights.
    /// </summary>
    static (ISparseNetwork Sparse, nn.Module<Tensor, Tensor> Dense, long DenseWeights) Build(string name, double sparsity, long seed)
    {
        var (spec, shape) = Spec(name);
        var model = ModelRegistry.Create(spec, shape, 10);
        Initializers.Apply(model, new InitSpec("kaiming-normal"), seed);
        model.eval();
        var weights = Network.FullStateDict(model);
        var batchNorms = Network.MaskedModules(model).Where(m => m.Module is MaskedBatchNorm2d).Select(m => m.Name).ToHashSet();
        var prunable = Network.Prunable(model).Select(t => t.Name).ToHashSet();
        var masks = new Dictionary<string, Tensor>();
        long denseWeights = 0;
        using var gen = new Generator((ulong)(seed + 1));
        using (no_grad())
        {
            foreach (var (key, w) in weights)
            {
                if (batchNorms.Contains(key[..Math.Max(0, key.LastIndexOf('.'))]))
                {
                    if (key.EndsWith("running_var", StringComparison.Ordinal)) w.copy_(rand(w.shape, generator: gen).add(0.5));
                    else if (key.EndsWith("running_mean", StringComparison.Ordinal)) w.copy_(randn(w.shape, generator: gen).mul(0.1));
                    continue;
                }
                if (!prunable.Contains(key)) continue;
                long n = w.numel(), keep = (long)Math.Round((1 - sparsity) * n);
                using var mask = zeros(n);
                using (var order = randperm(n, generator: gen))
                using (var chosen = order.narrow(0, 0, keep)) mask.index_fill_(0, chosen, 1.0);
                var shaped = mask.reshape(w.shape);
                w.mul_(shaped);
                masks[key] = shaped;
                denseWeights += n;
            }
        }
        ISparseNetwork sparse = model is ResNet
            ? SparseExport.CompactResNet(weights, masks, name, shape, spec.Stable, spec.Shortcut, denseAbove: 1.0).Model
            : model is ConvN
            ? SparseExport.InMemory(weights, masks, name, "relu", shape, denseAbove: 1.0)
            : shape.Length == 3
            ? SparseExport.CompactConvNet(weights, masks, name, shape, denseAbove: 1.0).Model
            : SparseExport.Compact(weights, masks, name == "lenet300" ? "lenet300" : "mlp", "relu", shape, denseAbove: 1.0).Model;
        foreach (var m in masks.Values) m.Dispose();
        return (sparse, model, denseWeights);
    }

    static float[] Inputs(int batch, int size, long seed)
    {
        var rng = new Random((int)seed + batch);
        var a = new float[batch * size];
        for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
        return a;
    }

    static double Diff(float[] reference, float[] got)
    {
        double scale = Math.Max(1, reference.Max(MathF.Abs)), worst = 0;
        for (int i = 0; i < reference.Length; i++) worst = Math.Max(worst, Math.Abs(reference[i] - got[i]));
        return worst / scale;
    }

    /// <summary>Median seconds of one call, after one warm-up call; at most Repetitions calls, stopping after SecondsPerCell (at least 3).</summary>
    internal static double Median(InferenceBenchOptions o, Action step)
    {
        step();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < o.Repetitions && (times.Count < 3 || total.Elapsed.TotalSeconds < o.SecondsPerCell))
        {
            long start = Stopwatch.GetTimestamp();
            step();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        return times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
    }

    sealed record PyTorchTiming(string File, int Batch, int Threads, double Seconds, string Torch);

    static List<InferenceBenchRow> WithPyTorch(List<InferenceBenchRow> rows, string script, List<(string Model, double Sparsity, string Path)> files,
        IReadOnlyList<int> batches, IReadOnlyList<int> threads, InferenceBenchOptions o)
    {
        var psi = new ProcessStartInfo(PyTorchPython) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("--batches=" + string.Join(",", batches));
        psi.ArgumentList.Add("--threads=" + string.Join(",", threads));
        psi.ArgumentList.Add("--repetitions=" + o.Repetitions);
        psi.ArgumentList.Add("--seconds=" + o.SecondsPerCell.ToString(CultureInfo.InvariantCulture));
        foreach (var f in files) psi.ArgumentList.Add(f.Path);
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InitPruneException($"--pytorch needs {PyTorchPython} with PyTorch (Debian: sudo apt-get install python3-torch)");
        }
        using (p)
        {
            var stdoutTask = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            var stdout = stdoutTask.GetAwaiter().GetResult();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InitPruneException($"the PyTorch benchmark failed: {IO.CheckpointFormat.OneLine(stderr.Trim().Split('\n').LastOrDefault() ?? "")} (install python3-torch for --pytorch)");
            var timings = JsonSerializer.Deserialize<List<PyTorchTiming>>(stdout, SparseModel.MetadataJson) ?? [];
            return [.. rows.Select(r =>
            {
                var file = files.First(f => f.Model == r.Model && f.Sparsity == r.Sparsity).Path;
                var t = timings.FirstOrDefault(x => x.File == file && x.Batch == r.Batch && x.Threads == r.Threads);
                return t is null ? r : r with { PyTorchCsrSeconds = t.Seconds, AheadOfPyTorch = t.Seconds / (double.IsNaN(r.TorchSparseSeconds) ? r.ManagedSeconds : Math.Min(r.ManagedSeconds, r.TorchSparseSeconds)) };
            })];
        }
    }

    internal static string ReadLoad()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    internal static (string Cpu, double? Ghz) CpuInfo()
    {
        try
        {
            var lines = File.ReadAllLines("/proc/cpuinfo");
            var model = lines.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
            var mhz = lines.FirstOrDefault(l => l.StartsWith("cpu MHz", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
            return (model, mhz is not null && double.TryParse(mhz, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v / 1000 : null);
        }
        catch (IOException)
        {
            return ("unknown", null);
        }
    }
}
