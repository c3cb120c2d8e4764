using System.Globalization;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Theory;

namespace InitPrune.Reporting;

/// <summary>
/// Seed 001 Theorem 1 at one heat-map depth: the MLP's hidden layers, L = depth + 1 weight layers (as
/// <c>initprune theory s-cr --layers</c>) and the bound on E[s_cr] with natural and base-10 logs.
/// </summary>
internal sealed record SbpBoundPoint(int Depth, int Layers, double BoundLn, double BoundLog10);

/// <summary>
/// The theory drawn over one depth × sparsity heat map (seed 001 Fig. 3): <see cref="Points"/>, Theorem 1's upper bound on
/// E[s_cr] at each plotted depth (empty where it does not apply), <see cref="TrainableDepth"/> = 6ξ_c, Schoenholz et al.
/// (2017)'s trainable depth (null when ξ_c is infinite or the theory does not apply), and <see cref="Note"/>, the one line
/// the report prints under the plot: what is drawn, or why nothing is.
/// </summary>
internal sealed record HeatmapTheory(IReadOnlyList<SbpBoundPoint> Points, double? Chi, double? XiC, double? TrainableDepth, string Note)
{
    /// <summary>Schoenholz et al. (2017): signals cross about 6ξ_c layers before training fails.</summary>
    public const double DepthScaleFactor = 6;

    public bool Drawn => Points.Count > 0 || TrainableDepth is not null;

    /// <summary>
    /// The overlay for a heat map with <paramref name="xField"/> × <paramref name="yField"/> over <paramref name="runs"/> (every run
    /// of its cells) at the plotted <paramref name="depths"/>. It applies when the axes are prune.sparsity and model.depth and
    /// every run is one constant-width tanh/ReLU/… MLP (an activation with a mean-field map) initialized N(0, σw²/fan_in)
    /// (<c>normal</c> or <c>eoc</c>) with the same (activation, σw, σb, width) and pruned by SNIP (SBP, the method
    /// Theorem 1 is about). The s_cr bound needs χ ≠ 1 (off the Edge of Chaos, κ = |ln χ|/8 > 0); ξ_c = −1/ln χ
    /// in the ordered phase (−1/ln f′(c*) when chaotic) is infinite on the Edge of Chaos.
    /// </summary>
    public static HeatmapTheory For(string xField, string yField, IReadOnlyCollection<StoredRun> runs, IReadOnlyList<string> depths)
    {
        const string None = "no seed 001 theory overlay: ";
        if (!(xField == "prune.sparsity" && yField == "model.depth") && !(xField == "model.depth" && yField == "prune.sparsity"))
            return Nothing(None + "the heat map's axes are not prune.sparsity × model.depth");
        if (runs.Count == 0) return Nothing(None + "no runs");
        if (runs.FirstOrDefault(r => r.Config.Model.Name != "mlp") is { } notMlp)
            return Nothing(None + $"model {notMlp.Config.Model.Name} is not an MLP (Theorem 1 and the depth scales are drawn for FFNNs)");
        if (runs.FirstOrDefault(r => r.Config.Prune.Method != "snip") is { } other)
            return Nothing(None + $"method {other.Config.Prune.Method}: Theorem 1 bounds s_cr of sensitivity-based pruning (snip) only");
        if (runs.FirstOrDefault(r => r.Config.Init.Name is not ("normal" or "eoc")) is { } init)
            return Nothing(None + $"init {init.Config.Init.Name} is not W ~ N(0, σw²/fan_in), B ~ N(0, σb²) (normal or eoc)");
        var settings = runs.Select(r => (r.Config.Model.Activation, r.Config.Init.Name, r.Config.Init.SigmaW, SigmaB: r.Config.Init.ZeroBias ? 0 : r.Config.Init.SigmaB,
            r.Config.Model.Width, r.Config.Model.WidthMultiplier)).Distinct().ToList();
        if (settings.Count > 1)
            return Nothing(None + "the runs differ in activation, σw, σb or width, so no single curve describes them");
        var (activation, initName, sigmaWGiven, sigmaB, width, multiplier) = settings[0];
        if (width is not { } n0 || n0 < 1) return Nothing(None + "the MLP has no constant width");
        int n = (int)Math.Round(n0 * multiplier, MidpointRounding.AwayFromZero);
        double sigmaW, chi;
        DepthScales scales;
        try
        {
            sigmaW = initName == "eoc" ? EdgeOfChaos.SigmaW(activation, sigmaB) : sigmaWGiven;
            var map = new MeanFieldMap(activation, sigmaW, sigmaB);
            if (map.FixedPointQ() is null) return Nothing(None + $"q^l diverges for {activation}, σw = {G(sigmaW)}, σb = {G(sigmaB)}");
            scales = map.DepthScales();
            chi = map.Chi(scales.QStar);
        }
        catch (InitPruneException e)
        {
            return Nothing(None + e.Message);
        }
        var at = $"{activation}, σw = {G(sigmaW)}, σb = {G(sigmaB)}, N = {n}: χ = {G(chi)}";
        bool eoc = Math.Abs(chi - 1) <= 1e-6 || double.IsPositiveInfinity(scales.XiC);
        if (eoc)
            return new HeatmapTheory([], chi, double.PositiveInfinity, null,
                $"theory ({at}): on the Edge of Chaos κ = 0, so Theorem 1 bounds no s_cr (the network is well-conditioned) and ξ_c = ∞ (no depth limit): nothing drawn");
        double kappa = SbpCriticalSparsity.Kappa(chi);
        var points = depths.Select(d => SweepAnalysis.TryNumber(d, out var v) && v >= 0 && v == Math.Floor(v) ? (int?)v : null)
            .OfType<int>().Distinct().Order()
            .Select(d => new SbpBoundPoint(d, d + 1, SbpCriticalSparsity.Bound(d + 1, n, kappa, LogBase.Natural), SbpCriticalSparsity.Bound(d + 1, n, kappa, LogBase.Ten)))
            .ToList();
        double trainable = DepthScaleFactor * scales.XiC;
        var shown = points.Where(p => p.BoundLog10 < 1).Select(p => p.Depth.ToString(CultureInfo.InvariantCulture)).ToList();
        var drawn = shown.Count > 0 ? $"depths {string.Join(", ", shown)} (elsewhere ≥ 1, vacuous)" : "no depth (≥ 1, vacuous, at every plotted depth)";
        return new HeatmapTheory(points, chi, scales.XiC, trainable,
            $"theory ({at}, κ = {G(kappa)}): seed 001 Theorem 1 bound on E[s_cr] at L = depth + 1 weight layers drawn where below 1: {drawn}; 6ξ_c = {G(trainable)} (ξ_c = {G(scales.XiC)}), Schoenholz et al. 2017's trainable depth");
    }

    static HeatmapTheory Nothing(string note) => new([], null, null, null, note);

    static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>
    /// Where <paramref name="value"/> falls on a categorical axis whose ticks 0, 1, … carry the ascending <paramref name="values"/>:
    /// linear between neighbouring ticks, extended past the ends with the end spacing and held within the axis [−0.5, n − 0.5].
    /// </summary>
    public static double AxisPosition(IReadOnlyList<double> values, double value)
    {
        int k = values.Count;
        if (k == 0) return 0;
        if (k == 1) return value == values[0] ? 0 : value < values[0] ? -0.5 : 0.5;
        int i = 0;
        while (i < k - 2 && value > values[i + 1]) i++;
        double position = i + (value - values[i]) / (values[i + 1] - values[i]);
        return Math.Clamp(position, -0.5, k - 0.5);
    }
}
