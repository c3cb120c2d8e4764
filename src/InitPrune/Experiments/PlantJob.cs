using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Theory;
using InitPrune.Tickets;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>Everything <c>initprune plant</c> takes; <see cref="TargetFile"/> (a saved MLP) replaces the random target of <see cref="PlantSettings.Architecture"/>.</summary>
public sealed record PlantOptions(PlantSettings Settings, long Seed = 0, string? TargetFile = null);

/// <summary>The numerical check of Theorem 5: sup_x ‖f(x) − λ f_ε(x)‖₂ over the probe against ε.</summary>
public sealed record PlantCheck(string Probe, long Points, double SupError, double Mse, double Epsilon, bool Holds);

/// <summary>
/// Edge-popup-scaled on the same mother network at the planted ticket's kept fraction, against the same target: its gap
/// to f (over the same probe, its fitted scale included), the planted ticket's, and how much the two masks overlap.
/// </summary>
public sealed record EdgePopupComparison(
    int Epochs,
    double KeptFraction,
    long Kept,
    long PlantedKept,
    long Total,
    double SupError,
    double Mse,
    double PlantedSupError,
    double PlantedMse,
    double Scale,
    long Overlap,
    double Jaccard,
    double PlantedEntriesKept,
    double ChanceEntriesKept,
    IReadOnlyList<TicketEpoch> History);

/// <summary>What <c>initprune plant</c> reports (summary.json).</summary>
public sealed record PlantSummary(
    int[] Target,
    string TargetSource,
    long[] MotherWidths,
    double Epsilon,
    double Delta,
    double C,
    double SigmaW,
    long Seed,
    double Lambda,
    long KeptWeights,
    long TotalWeights,
    long KeptBiases,
    long TotalBiases,
    double KeptFraction,
    bool SubsetSumsWithinTolerance,
    IReadOnlyList<PlantedLayerReport> Layers,
    PlantCheck Check,
    EdgePopupComparison? EdgePopup,
    IReadOnlyDictionary<string, string> Files);

/// <summary>
/// Plants a target in a random mother network (<see cref="PlantedTicket"/>), checks ‖f − λ f_ε‖_∞ ≤ ε on a grid or
/// sample of [−1, 1]^{n₀}, writes mask.safetensors, weights.safetensors (the mother at its initialization),
/// target.safetensors and summary.json, and (unless skipped) runs edge-popup-scaled on the same mother network.
/// </summary>
public static class PlantJob
{
    public static PlantSummary Run(PlantOptions o, string outDir, Action<TicketEpoch>? epochEnd = null)
    {
        var s = o.Settings;
        var config = s.ToConfig();
        config.Validate();
        if (s.GridPoints < 2) throw new InitPruneException($"--grid-points {s.GridPoints} is impossible: use at least 2");
        if (s.Samples < 1) throw new InitPruneException($"--samples {s.Samples} is impossible: use at least 1");
        var target = o.TargetFile is { } file ? TargetParameters.Load(Artifacts.CheckPath(file, "--target")) : PlantedTicket.RandomTarget(PlantedTicket.ParseArchitecture(s.Architecture), o.Seed);
        var arch = PlantedTicket.Architecture(target);
        if (!s.SkipEdgePopup && arch[^1] != 1)
            throw new InitPruneException($"edge-popup regresses one output, but the target has n_L = {arch[^1]}: use --skip-edge-popup or a target with one output");
        outDir = Artifacts.PrepareOutput(outDir);
        using var planted = PlantedTicket.Plant(target, config, o.Seed);
        var probe = PlantedTicket.Probe(arch[0], s.GridPoints, s.Samples, o.Seed);
        var gap = planted.Check(probe);
        var check = new PlantCheck(PlantedTicket.ProbeDescription(arch[0], s.GridPoints, s.Samples), probe.Count, gap.SupError, gap.Mse, config.Epsilon, gap.SupError <= config.Epsilon);

        var meta = new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "initprune" };
        var files = new Dictionary<string, string>
        {
            ["mask"] = planted.Mask.Save(outDir, "mask", SaveFormat.Safetensors, meta),
            ["weights"] = TensorFile.Save(outDir, "weights", Network.FullStateDict(planted.Mother), SaveFormat.Safetensors, meta),
        };
        using (var targetTensors = PlantedTicket.TargetTensors(target))
            files["target"] = TensorFile.Save(outDir, "target", targetTensors, SaveFormat.Safetensors, meta);

        EdgePopupComparison? comparison = null;
        if (!s.SkipEdgePopup)
            comparison = CompareEdgePopup(planted, s, probe, gap, o.Seed, outDir, files, meta, epochEnd);
        files["summary"] = "summary.json";

        var biasNames = planted.Mask.Tensors.Keys.Where(k => k.EndsWith(".bias", StringComparison.Ordinal)).ToHashSet();
        var report = planted.Mask.Report();
        long keptW = report.Where(l => !biasNames.Contains(l.Name)).Sum(l => l.Kept), totalW = report.Where(l => !biasNames.Contains(l.Name)).Sum(l => l.Total);
        long keptB = report.Where(l => biasNames.Contains(l.Name)).Sum(l => l.Kept), totalB = report.Where(l => biasNames.Contains(l.Name)).Sum(l => l.Total);
        var summary = new PlantSummary(arch, o.TargetFile ?? $"random U[-1,1] (seed {o.Seed})", planted.MotherWidths, config.Epsilon, config.Delta, config.C, config.SigmaW, o.Seed,
            planted.Lambda, keptW, totalW, keptB, totalB, (double)(keptW + keptB) / (totalW + totalB),
            planted.Choices.All(c => c.Within), planted.Layers, check, comparison, files);
        Artifacts.WriteJson(Path.Combine(outDir, "summary.json"), summary);
        return summary;
    }

    /// <summary>
    /// Edge-popup-scaled (MSE, λ fitted after every epoch and spread by Lemma 2) on a copy of the mother network at the
    /// planted ticket's kept fraction ρ, with edge-popup's defaults: each weight and each bias tensor keeps ρ of its entries
    /// (the planted ticket's per-layer fractions differ; a global top-k starved the last, widest layer, whose scores start smallest).
    /// </summary>
    static EdgePopupComparison CompareEdgePopup(PlantedTicket planted, PlantSettings s, List<double[]> probe, FunctionGap plantedGap, long seed,
        string outDir, Dictionary<string, string> files, Dictionary<string, string> meta, Action<TicketEpoch>? epochEnd)
    {
        long kept = planted.Mask.Kept, total = planted.Mask.Total;
        var config = new EdgePopupConfig((double)(total - kept) / total, s.EdgePopupEpochs, Scaled: true, LearningRate: s.EdgePopupLr);
        var targetNet = planted.TargetNet();
        using var data = Regression(targetNet, planted.TargetArchitecture[0], s.EdgePopupSamples, Seeds.For(seed, "planted edge-popup data"));
        var mother = planted.Mother;
        using var copy = new Mlp(mother.InputSize, mother.Widths, planted.TargetArchitecture[^1], "relu");
        using (var state = Network.CloneStateDict(mother)) Network.LoadStateDict(copy, state, "the mother network");
        List<TicketEpoch> history;
        Mask mask;
        // A network this small runs fastest on one thread: libtorch's worker threads only wait on each other
        // (on 2 busy cores an epoch took 2.5–11 s with them, 0.7–1 s without). The setting is restored afterwards.
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            using var popup = new EdgePopup(copy, config, Seeds.For(seed, "edge-popup"));
            if (epochEnd is not null) popup.EpochEnd += epochEnd;
            history = popup.Run(data, Seeds.For(seed, "train"), "the mother network");
            mask = popup.Mask();
        }
        finally
        {
            set_num_threads(threads);
        }
        using (mask)
        {
            var gap = SparseMlp.Gap(targetNet, PlantedTicket.Masked(copy, mask), 1, probe);
            long overlap = 0;
            foreach (var (name, m) in mask.Tensors)
            {
                using var both = m.to(ScalarType.Bool).logical_and(planted.Mask.Tensors[name].to(ScalarType.Bool));
                overlap += both.sum().item<long>();
            }
            long epKept = mask.Kept;
            files["edge_popup_mask"] = mask.Save(outDir, "edge-popup-mask", SaveFormat.Safetensors, meta);
            files["edge_popup_weights"] = TensorFile.Save(outDir, "edge-popup-weights", Network.FullStateDict(copy), SaveFormat.Safetensors, meta);
            return new EdgePopupComparison(s.EdgePopupEpochs, (double)epKept / total, epKept, kept, total, gap.SupError, gap.Mse,
                plantedGap.SupError, plantedGap.Mse, history[^1].Scale, overlap, (double)overlap / (kept + epKept - overlap),
                (double)overlap / kept, (double)epKept / total, history);
        }
    }

    /// <summary>x ~ U[−1, 1]^{n₀}, y = f(x): <paramref name="samples"/> training and a quarter as many test samples.</summary>
    static DatasetSplit Regression(SparseMlp target, int inputWidth, int samples, long seed)
    {
        var random = new Random((int)(seed & int.MaxValue));
        Dataset Make(string name, int n)
        {
            var x = new float[n * inputWidth];
            var y = new float[n];
            for (int i = 0; i < n; i++)
            {
                var point = new double[inputWidth];
                for (int j = 0; j < inputWidth; j++) point[j] = x[i * inputWidth + j] = (float)(2 * random.NextDouble() - 1);
                y[i] = (float)target.Forward(point)[0];
            }
            return new Dataset(name, tensor(x, [n, inputWidth], device: Compute.Device), tensor(y, [n, 1], device: Compute.Device), TaskKind.Regression, 0);
        }
        return new DatasetSplit(Make("planted-target", samples), Make("planted-target", Math.Max(samples / 4, 1)), $"synthetic (seed {seed})");
    }
}
