using System.Globalization;
using System.Text.RegularExpressions;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>What <see cref="SparseExport.Export"/> writes: an MLP's or a conv net's weights (and mask) as a sparse model file.</summary>
/// <param name="Weights">The weights (.safetensors or .pt; a torch.nn.utils.prune state_dict gives weight_orig · weight_mask).</param>
/// <param name="Mask">The mask (default: the one the weights carry, else the weights' own zeros).</param>
/// <param name="Out">The file to write (default: model.sparse.safetensors beside the weights).</param>
/// <param name="DenseAbove">A layer whose kept density is above this is stored dense.</param>
/// <param name="InputShape">The shape of one sample (MLP default: [inputs of the first layer]; a conv net needs [C, H, W]).</param>
/// <param name="Padding">A conv net's padding mode (zeros or circular): the weights do not say.</param>
/// <param name="Shortcut">A ResNet's shortcut where the shape changes (default: as the weights show).</param>
/// <param name="Stable">A Stable ResNet (branches scaled by 1/√B): the weights do not say.</param>
public sealed record SparseExportRequest(
    string Weights,
    string? Mask = null,
    string Model = "mlp",
    string Activation = "relu",
    string? Out = null,
    double DenseAbove = SparseExport.DefaultDenseAbove,
    long[]? InputShape = null,
    IReadOnlyDictionary<string, string>? Source = null,
    string Padding = "zeros",
    ShortcutKind? Shortcut = null,
    bool Stable = false);

/// <summary>One layer of an export: shapes before and after dead-unit removal, weights kept and stored.</summary>
public sealed record SparseExportLayer(
    string Name,
    string Storage,
    int InFeatures,
    int OutFeatures,
    int OriginalInFeatures,
    int OriginalOutFeatures,
    long KeptWeights,
    long StoredWeights,
    double Density,
    int UnitsRemoved,
    int BiasesFolded);

/// <summary>
/// What an export did: the file and its size beside the dense safetensors of the same (masked) weights, parameters
/// (dense count, kept by the mask, stored in the file), and the hidden units removed with the parameters they held.
/// </summary>
public sealed record SparseExportResult(
    string File,
    string Model,
    string Activation,
    long Bytes,
    long DenseBytes,
    long DenseParameters,
    long KeptParameters,
    long StoredParameters,
    int UnitsRemoved,
    long ParametersSavedByRemoval,
    IReadOnlyList<SparseExportLayer> Layers)
{
    public double SizeRatio => DenseBytes == 0 ? 0 : (double)Bytes / DenseBytes;
}

/// <summary>
/// Turns a pruned MLP (mlp, lenet300) into a <see cref="SparseModel"/>: masks applied, hidden units with no kept
/// incoming or outgoing weight removed (a unit with no incoming weight outputs the constant φ(b), which is folded into
/// the next layer's bias), each layer stored as CSR or, above <see cref="DefaultDenseAbove"/> density, dense.
/// </summary>
public static partial class SparseExport
{
    /// <summary>
    /// Density above which a layer is stored dense. CSR with int64 indices costs 12 bytes per kept weight against 4
    /// per dense entry, so it is smaller up to density 1/3; the managed CSR kernel needs one index load per weight
    /// more than the dense one, so it keeps up only below about that density as well (docs/inference.md).
    /// </summary>
    public const double DefaultDenseAbove = 0.3;

    /// <summary>Exports <paramref name="r"/> and writes the file.</summary>
    public static SparseExportResult Export(SparseExportRequest r)
    {
        if (!(r.DenseAbove >= 0 && r.DenseAbove <= 1))
            throw new InitPruneException($"--dense-above {r.DenseAbove.ToString(CultureInfo.InvariantCulture)} is not a density: use a number in [0, 1]");
        using var split = StateDictLayout.Read(r.Weights, "weights file");
        using var mask = r.Mask is { } m ? Mask.Load(m) : null;
        var masks = mask?.Tensors ?? (split.Masks.Count > 0 ? split.Masks : null);
        var source = new Dictionary<string, string>(r.Source ?? new Dictionary<string, string>()) { ["weights"] = Path.GetFullPath(r.Weights) };
        if (r.Mask is { } mp) source["mask"] = Path.GetFullPath(mp);
        var (model, layers, counts) = Build(split.Weights, masks, r.Model, r.Activation, r.InputShape, r.Padding, r.DenseAbove, source, r.Shortcut, r.Stable);

        var outPath = Path.GetFullPath(r.Out ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(r.Weights))!, "model.sparse.safetensors"));
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        model.Save(outPath);
        long denseBytes = DenseFileBytes(split.Weights, masks, outPath);
        return new SparseExportResult(outPath, model.Model, model.Activation, new FileInfo(outPath).Length, denseBytes, counts.Dense, counts.Kept,
            model.StoredParameters, layers.Sum(l => l.UnitsRemoved), counts.BeforeRemoval - counts.AfterRemoval, layers);
    }

    /// <summary>
    /// Exports sweep run <paramref name="runId"/> (its id, or an unambiguous prefix of 6 or more hex digits) from the
    /// store <paramref name="selection"/> names: <c>runs/&lt;id&gt;/final.safetensors</c> and <c>mask.safetensors</c>
    /// under the artefact folder; by default to <c>runs/&lt;id&gt;/model.sparse.safetensors</c>.
    /// </summary>
    public static SparseExportResult ExportRun(ReportRequest selection, string runId, string? outPath = null, double denseAbove = DefaultDenseAbove)
    {
        var location = SweepReport.Location(selection);
        var root = Path.GetFullPath(Artifacts.CheckPath(selection.ArtifactRoot, "--artifacts"));
        StoredRun run;
        using (var store = ResultsStores.Open(location, mustExist: true))
        {
            var matches = store.Load(selection.Sweep).Where(x => x.Id == runId || (runId.Length >= 6 && x.Id.StartsWith(runId, StringComparison.Ordinal))).ToList();
            run = matches.Count switch
            {
                0 => throw new InitPruneException($"the results store {location} has no run '{FileNames.Safe(runId)}': 'initprune export {location} --out runs.csv' lists the run ids"),
                1 => matches[0],
                _ => throw new InitPruneException($"run id prefix '{runId}' matches {matches.Count} runs ({string.Join(", ", matches.Take(3).Select(x => x.Id))}…): give more digits"),
            };
        }
        if (run.Status != RunStatus.Done)
            throw new InitPruneException($"run {run.Id} is {run.Status.ToString().ToLowerInvariant()}, not done: it has no final weights to export; finish the sweep first");
        var folders = new SweepFolders(root);
        var weights = folders.FinalWeightsOf(run.Id);
        if (!File.Exists(weights))
            throw new InitPruneException($"run {run.Id} is done but its final weights {weights} are missing: pass the sweep's --artifacts folder");
        var maskPath = Path.Combine(folders.RunFolder(run.Id), "mask.safetensors");
        var model = run.Config.Model;
        var (shape, _) = DatasetRegistry.NominalShape(run.Config.Data.Name);
        return Export(new SparseExportRequest(weights, File.Exists(maskPath) ? maskPath : null, model.Name, model.Activation,
            outPath ?? Path.Combine(folders.RunFolder(run.Id), "model.sparse.safetensors"), denseAbove, shape,
            new Dictionary<string, string> { ["run"] = run.Id, ["store"] = location, ["dataset"] = run.Config.Data.Name }, model.Padding,
            ShortcutOf(model), model.Stable));
    }

    /// <summary>The shortcut of a run's ResNet (null for other models).</summary>
    internal static ShortcutKind? ShortcutOf(ModelSettings model) =>
        SparseResNetExport.Handles(ModelRegistry.Resolve(model.Name) ?? "") ? Enum.Parse<ShortcutKind>(model.Shortcut, ignoreCase: true) : null;

    /// <summary>A ResNet shortcut typed as <c>a</c> or <c>b</c> (null: not given), or a one-line error.</summary>
    public static ShortcutKind? ParseShortcut(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null => null,
        "a" => ShortcutKind.A,
        "b" => ShortcutKind.B,
        _ => throw new InitPruneException($"--shortcut '{text}' is not a ResNet shortcut: use a (zero-padded identity) or b (1×1 convolution)"),
    };

    /// <summary>A sample shape typed as <c>C,H,W</c> (or <c>C×H×W</c>): positive integers, or a one-line error.</summary>
    public static long[] ParseShape(string text)
    {
        var parts = text.Split([',', 'x', '×'], StringSplitOptions.TrimEntries);
        var shape = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
                throw new InitPruneException($"--input-shape '{text}' is not a shape: give positive integers separated by commas, e.g. 3,32,32");
        }
        return shape;
    }

    /// <summary>
    /// The parameters of a state_dict (BatchNorm running statistics are not parameters): all of them, and those the
    /// mask keeps (without a mask: the nonzero ones).
    /// </summary>
    internal static (long Dense, long Kept) ParameterCounts(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks)
    {
        using var scope = NewDisposeScope();
        var parameters = weights.Where(kv => !kv.Key.Contains("running_", StringComparison.Ordinal) && !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        return (parameters.Sum(kv => kv.Value.numel()),
            parameters.Sum(kv => (masks is not null && masks.TryGetValue(kv.Key, out var m) ? m : kv.Value).count_nonzero().item<long>()));
    }

    internal sealed record Counts(long Dense, long Kept, long BeforeRemoval, long AfterRemoval = 0);

    internal sealed class Work(string name, float[] w, int rows, int cols, float[]? bias)
    {
        public string Name = name;
        public float[] W = w;
        public int Rows = rows;
        public int Cols = cols;
        public float[]? Bias = bias;
        public List<int> Kept = [.. Enumerable.Range(0, rows)];
        public int OriginalRows = rows;
        public int OriginalCols = cols;
        public int Folded;
        public long KeptWeights;

        public bool RowEmpty(int j)
        {
            for (int c = 0; c < Cols; c++) if (W[j * Cols + c] != 0) return false;
            return true;
        }

        public bool ColumnEmpty(int j)
        {
            for (int r = 0; r < Rows; r++) if (W[r * Cols + j] != 0) return false;
            return true;
        }

        public void RemoveRows(HashSet<int> rows)
        {
            var keep = Enumerable.Range(0, Rows).Where(j => !rows.Contains(j)).ToArray();
            W = [.. keep.SelectMany(j => W.AsSpan(j * Cols, Cols).ToArray())];
            if (Bias is { } b) Bias = [.. keep.Select(j => b[j])];
            Kept = [.. keep.Select(j => Kept[j])];
            Rows = keep.Length;
        }

        public void RemoveColumns(HashSet<int> cols)
        {
            var keep = Enumerable.Range(0, Cols).Where(j => !cols.Contains(j)).ToArray();
            var w = new float[Rows * keep.Length];
            for (int r = 0; r < Rows; r++)
                for (int c = 0; c < keep.Length; c++) w[r * keep.Length + c] = W[r * Cols + keep[c]];
            W = w;
            Cols = keep.Length;
        }
    }

    /// <summary>
    /// The sparse model of an MLP state_dict (<c>layers.N.weight</c>, <c>layers.N.bias</c>) under optional
    /// <paramref name="masks"/> (weights and biases, bool or 0/1), with the per-layer report.
    /// </summary>
    public static (SparseModel Model, List<SparseExportLayer> Layers) Compact(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks,
        string model = "mlp", string activation = "relu", long[]? inputShape = null, double denseAbove = DefaultDenseAbove)
    {
        var (m, layers, _) = Build(weights, masks, model, activation, inputShape, "zeros", denseAbove, new Dictionary<string, string>());
        return ((SparseModel)m, layers);
    }

    /// <summary>The sparse conv net of a vcnn or VGG state_dict (BatchNorm folded) under optional <paramref name="masks"/>, with the per-layer report.</summary>
    public static (SparseConvNet Model, List<SparseExportLayer> Layers) CompactConvNet(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks,
        string model, long[] inputShape, string activation = "relu", string padding = "zeros", double denseAbove = DefaultDenseAbove)
    {
        var (m, layers, _) = Build(weights, masks, model, activation, inputShape, padding, denseAbove, new Dictionary<string, string>());
        return (m as SparseConvNet ?? throw new InitPruneException($"'{model}' is not a conv net"), layers);
    }

    /// <summary>
    /// The sparse network of <paramref name="weights"/> under <paramref name="masks"/>, in memory: what <see cref="Export"/>
    /// writes, for every model it handles (one-line error for the others), without the file.
    /// </summary>
    public static ISparseNetwork InMemory(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks, string model, string activation,
        long[]? inputShape, string padding = "zeros", double denseAbove = DefaultDenseAbove, ShortcutKind? shortcut = null, bool stable = false) =>
        Build(weights, masks, model, activation, inputShape, padding, denseAbove, new Dictionary<string, string>(), shortcut, stable).Item1;

    /// <summary>The sparse ResNet of a CIFAR ResNet state_dict (BatchNorm and branch scale folded) under optional <paramref name="masks"/>, with the per-layer report.</summary>
    public static (SparseResNet Model, List<SparseExportLayer> Layers) CompactResNet(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks,
        string model, long[] inputShape, bool stable = false, ShortcutKind? shortcut = null, string activation = "relu", string padding = "zeros", double denseAbove = DefaultDenseAbove)
    {
        var (m, layers, _) = Build(weights, masks, model, activation, inputShape, padding, denseAbove, new Dictionary<string, string>(), shortcut, stable);
        return (m as SparseResNet ?? throw new InitPruneException($"'{model}' is not a ResNet"), layers);
    }

    static long Stored(IEnumerable<SparseConv> convs, SparseLayer classifier) =>
        convs.Sum(c => c.Nonzeros + (c.Bias?.Length ?? 0)) + classifier.Nonzeros + (classifier.Bias?.Length ?? 0);

    static (ISparseNetwork, List<SparseExportLayer>, Counts) Build(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks,
        string modelName, string activation, long[]? inputShape, string padding, double denseAbove, Dictionary<string, string> source,
        ShortcutKind? shortcut = null, bool stable = false)
    {
        if (masks is not null)
        {
            foreach (var (key, m) in masks)
            {
                if (!weights.TryGetValue(key, out var w))
                    throw new InitPruneException($"the mask names '{key}', which the weights do not hold: pass the mask of these weights");
                if (!m.shape.SequenceEqual(w.shape))
                    throw new InitPruneException($"the mask of '{key}' is [{string.Join(",", m.shape)}] but the weight is [{string.Join(",", w.shape)}]: pass the mask of these weights");
            }
        }
        var canonical = ModelRegistry.Resolve(modelName);
        if ((stable || shortcut is not null) && !(canonical is not null && SparseResNetExport.Handles(canonical)))
            throw new InitPruneException($"--stable and --shortcut describe ResNets, not '{modelName}': leave them out");
        if (canonical is not null && SparseConvExport.Handles(canonical))
        {
            var (net, convLayers, convCounts) = SparseConvExport.Build(weights, masks, canonical, activation, inputShape, padding, denseAbove, source);
            return (net, convLayers, convCounts with { AfterRemoval = Stored(net.Convs, net.Classifier) });
        }
        if (canonical is not null && SparseResNetExport.Handles(canonical))
        {
            var (net, resLayers, resCounts) = SparseResNetExport.Build(weights, masks, canonical, activation, inputShape, padding, shortcut, stable, denseAbove, source);
            return (net, resLayers, resCounts with { AfterRemoval = Stored(net.AllConvs, net.Classifier) });
        }
        if (canonical is not null && SparseConvHeadExport.Handles(canonical))
            return SparseConvHeadExport.Build(weights, masks, canonical, activation, inputShape, padding, denseAbove, source);
        if (canonical is not ("mlp" or "lenet300"))
            throw new InitPruneException($"export writes sparse models of MLPs (mlp, lenet300), of vcnn and the VGGs (with or without -bn), of Conv-2/4/6/8 (convN) and of the CIFAR ResNets (resnetN), not '{modelName}'");
        Activations.Create(activation).Dispose();
        var layers = ReadLayers(weights, masks);
        if (canonical == "lenet300" && !layers.Select(l => l.Rows).SkipLast(1).SequenceEqual([300, 100]))
            throw new InitPruneException($"the weights have hidden widths [{string.Join(",", layers.Select(l => l.Rows).SkipLast(1))}], not LeNet-300-100's 300,100: pass the --model they were trained as");
        long dense = layers.Sum(l => (long)l.Rows * l.Cols + (l.Bias?.Length ?? 0));
        long kept = layers.Sum(l => l.KeptWeights + (l.Bias is { } b ? BiasKept(masks, l.Name, b.Length) : 0));
        long before = layers.Sum(l => l.W.LongCount(v => v != 0) + (l.Bias?.Length ?? 0));
        var removed = RemoveDeadUnits(layers, activation);

        var shape = inputShape ?? [layers[0].Cols];
        var report = new List<SparseExportLayer>();
        var sparse = ToLayers(layers, removed, denseAbove, report);
        source["model"] = canonical;
        var model = new SparseModel(canonical, activation.ToLowerInvariant(), shape, sparse, source);
        return (model, report, new Counts(dense, kept, before, model.Layers.Sum(l => l.Nonzeros + (l.Bias?.Length ?? 0))));
    }

    /// <summary>Linear layers as stored (CSR up to density <paramref name="denseAbove"/>, else dense), their report lines added to <paramref name="report"/>.</summary>
    internal static List<SparseLayer> ToLayers(List<Work> layers, int[] removed, double denseAbove, List<SparseExportLayer> report)
    {
        var sparse = new List<SparseLayer>();
        for (int l = 0; l < layers.Count; l++)
        {
            var x = layers[l];
            long nnz = x.W.LongCount(v => v != 0);
            double density = x.Rows * (long)x.Cols == 0 ? 0 : (double)nnz / ((long)x.Rows * x.Cols);
            bool csr = density <= denseAbove;
            sparse.Add(new SparseLayer(x.Name, x.Cols, x.Rows, csr ? CsrMatrix.FromDense(x.W, x.Rows, x.Cols) : null, csr ? null : x.W, x.Bias, [.. x.Kept], x.OriginalRows));
            report.Add(new SparseExportLayer(x.Name, csr ? "csr" : "dense", x.Cols, x.Rows, x.OriginalCols, x.OriginalRows, x.KeptWeights,
                csr ? nnz : (long)x.Rows * x.Cols, density, removed[l], x.Folded));
        }
        return sparse;
    }

    static long BiasKept(IReadOnlyDictionary<string, Tensor>? masks, string layer, int length) =>
        masks is not null && masks.TryGetValue(layer + ".bias", out var m) ? m.count_nonzero().item<long>() : length;

    [GeneratedRegex(@"^layers\.(\d+)\.(weight|bias)$")]
    private static partial Regex LayerKey();

    static List<Work> ReadLayers(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks)
    {
        foreach (var key in weights.Keys)
        {
            if (!LayerKey().IsMatch(key))
                throw new InitPruneException($"the weights hold '{key}', which is not part of an MLP (layers.N.weight, layers.N.bias): pass the --model the weights were trained as");
        }
        var indices = weights.Keys.Select(k => LayerKey().Match(k)).Where(x => x.Groups[2].Value == "weight")
            .Select(x => int.Parse(x.Groups[1].Value, CultureInfo.InvariantCulture)).Order().ToList();
        if (indices.Count == 0) throw new InitPruneException("the weights hold no layers.N.weight: they are not an MLP's");
        var layers = new List<Work>();
        foreach (var i in indices)
        {
            var name = $"layers.{i}";
            var w = weights[name + ".weight"];
            if (w.dim() != 2) throw new InitPruneException($"'{name}.weight' is [{string.Join(",", w.shape)}], not a linear layer's matrix");
            int rows = (int)w.shape[0], cols = (int)w.shape[1];
            if (layers.Count > 0 && layers[^1].Rows != cols)
                throw new InitPruneException($"'{name}.weight' takes {cols} inputs but the layer before gives {layers[^1].Rows}: the weights are not one MLP");
            var values = Masked(w, masks, name + ".weight");
            long kept = masks is not null && masks.TryGetValue(name + ".weight", out var wm) ? wm.count_nonzero().item<long>() : values.LongCount(v => v != 0);
            var bias = weights.TryGetValue(name + ".bias", out var b) ? Masked(b, masks, name + ".bias") : null;
            if (bias is not null && bias.Length != rows) throw new InitPruneException($"'{name}.bias' has {bias.Length} entries for {rows} units");
            layers.Add(new Work(name, values, rows, cols, bias) { KeptWeights = kept });
        }
        foreach (var key in weights.Keys.Where(k => k.EndsWith(".bias", StringComparison.Ordinal)))
        {
            if (!weights.ContainsKey(key[..^5] + ".weight")) throw new InitPruneException($"the weights hold '{key}' without its weight");
        }
        return layers;
    }

    /// <summary>Entries the mask keeps of <paramref name="name"/> (without a mask: the nonzero <paramref name="values"/>).</summary>
    internal static long KeptCount(IReadOnlyDictionary<string, Tensor>? masks, string name, float[] values) =>
        masks is not null && masks.TryGetValue(name, out var m) ? m.count_nonzero().item<long>() : values.LongCount(v => v != 0);

    internal static float[] Masked(Tensor t, IReadOnlyDictionary<string, Tensor>? masks, string name)
    {
        using var scope = NewDisposeScope();
        var v = t.detach().cpu().to(ScalarType.Float32);
        if (masks is not null && masks.TryGetValue(name, out var m)) v = v.mul(m.cpu().ne(0).to(ScalarType.Float32));
        return v.contiguous().data<float>().ToArray();
    }

    /// <summary>Removes dead hidden units to a fixed point; returns the count removed per layer (output units are never removed).</summary>
    internal static int[] RemoveDeadUnits(List<Work> layers, string activation)
    {
        var removed = new int[layers.Count];
        using var phi = Activations.Create(activation);
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int l = 0; l < layers.Count - 1; l++)
            {
                var (layer, next) = (layers[l], layers[l + 1]);
                var dead = new HashSet<int>();
                float[] constants;
                using (var scope = NewDisposeScope())
                    constants = phi.forward(torch.tensor(layer.Bias ?? new float[layer.Rows])).data<float>().ToArray();
                for (int j = 0; j < layer.Rows; j++)
                {
                    bool noOutgoing = next.ColumnEmpty(j);
                    if (!noOutgoing && !layer.RowEmpty(j)) continue;
                    if (!noOutgoing && constants[j] != 0)
                    {
                        next.Bias ??= new float[next.Rows];
                        for (int r = 0; r < next.Rows; r++) next.Bias[r] += next.W[r * next.Cols + j] * constants[j];
                        next.Folded++;
                    }
                    dead.Add(j);
                }
                if (dead.Count == 0) continue;
                layer.RemoveRows(dead);
                next.RemoveColumns(dead);
                removed[l] += dead.Count;
                changed = true;
            }
        }
        return removed;
    }

    /// <summary>The size of the dense safetensors file of the same masked weights (written beside <paramref name="near"/>, then removed).</summary>
    static long DenseFileBytes(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks, string near)
    {
        var temp = Path.Combine(Path.GetDirectoryName(near)!, $".{Path.GetFileName(near)}.dense-{Environment.ProcessId}.tmp");
        using var dense = new TensorDict();
        foreach (var (k, w) in weights)
            dense.Add(k, torch.tensor(Masked(w, masks, k), w.shape));
        try
        {
            Safetensors.Save(temp, dense);
            return new FileInfo(temp).Length;
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
