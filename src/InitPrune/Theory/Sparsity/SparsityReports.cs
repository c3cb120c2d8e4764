using System.Globalization;
using System.Text.Json.Serialization;
using InitPrune.Reporting;

namespace InitPrune.Theory;

/// <summary>
/// Critical sparsity over depths (<c>initprune theory s-cr</c>): the simulation's settings, χ, κ = |log χ|/8 and one row per depth L
/// with seed 001's bounds beside the simulated s_cr.
/// </summary>
public sealed record CriticalSparsityReport(CriticalSparsitySpec Spec, double Chi, double Kappa, IReadOnlyList<CriticalSparsityRow> Rows)
{
    /// <summary>The artefacts the command writes.</summary>
    public string[] Files => ["s-cr.json", "s-cr.png"];
}

/// <summary>Seed 002 rescaling factors for every (width, sparsity) and the edges of stability per width (<c>initprune theory tn</c>).</summary>
public sealed record RescalingReport(IReadOnlyList<RescalingRow> Rows, IReadOnlyList<StabilityEdge> Edges)
{
    /// <summary>The artefacts the command writes.</summary>
    public string[] Files => ["tn.json", "tn.png"];
}

/// <summary>One layer of <see cref="KeepProbabilityReport"/>: keep probability p_l, sparsity 1 − p_l and the effective σ_w,l·√p_l (= σ_w,EOC).</summary>
public sealed record KeepProbabilityLayer(int Layer, double SigmaW, double KeepProbability, double Sparsity, double EffectiveSigmaW);

/// <summary>EOC keep probabilities p_l = σ²_w,EOC/σ²_w,l (<c>initprune theory keep-prob</c>).</summary>
/// <param name="Activation">The activation as given (its EOC gives σ_w,EOC unless that was given).</param>
/// <param name="SigmaWEocGiven">Whether σ_w,EOC was given rather than solved from (activation, σ_b).</param>
public sealed record KeepProbabilityReport(string Activation, double SigmaB, double SigmaWEoc, IReadOnlyList<KeepProbabilityLayer> Layers,
    [property: JsonIgnore] bool SigmaWEocGiven)
{
    /// <summary>The artefacts the command writes.</summary>
    public string[] Files => ["keep-prob.json"];
}

/// <summary>The sparsity commands' computations: each takes the options' values and returns one typed report.</summary>
public static class SparsityReports
{
    /// <summary>
    /// Simulated critical sparsity for each depth in <paramref name="layers"/> beside seed 001's bounds; χ is
    /// <paramref name="chi"/> when given, else the mean-field χ of the spec's (activation, σw, σb).
    /// </summary>
    /// <param name="spec">Width, activation, σ's, method, samples...; its Depth is replaced by L − 1 for each L.</param>
    public static CriticalSparsityReport CriticalSparsity(CriticalSparsitySpec spec, IReadOnlyList<int> layers, double? chi = null)
    {
        double chiValue = chi ?? new MeanFieldMap(spec.Activation, spec.SigmaW, spec.SigmaB).Chi();
        var rows = CriticalSparsityStudy.Run(spec, layers, chiValue);
        return new CriticalSparsityReport(spec, chiValue, SbpCriticalSparsity.Kappa(chiValue), rows);
    }

    /// <summary>Draws simulated s_cr (mean ± sd) against depth with the Theorem 1 and Prop. 4 bounds where they apply (capped at 1).</summary>
    public static void PlotCriticalSparsity(string path, CriticalSparsityReport report)
    {
        var (spec, rows) = (report.Spec, report.Rows);
        double[] x = [.. rows.Select(r => (double)r.Layers)];
        var series = new List<Series> { new($"simulated s_cr ({spec.Method}, mean ± sd)", x, [.. rows.Select(r => r.Mean)], [.. rows.Select(r => r.StdDev)]) };
        if (rows.All(r => r.SbpBoundLn is not null))
        {
            series.Add(new("Theorem 1 bound, ln", x, [.. rows.Select(r => Math.Min(1, r.SbpBoundLn!.Value))]));
            series.Add(new("Theorem 1 bound, log10", x, [.. rows.Select(r => Math.Min(1, r.SbpBoundLog10!.Value))]));
        }
        if (rows.All(r => r.MbpBound is not null))
            series.Add(new("Prop. 4 bound", x, [.. rows.Select(r => Math.Min(1, r.MbpBound!.Value))]));
        Plots.Lines(path, $"s_cr: {spec.Activation}, sigma_w = {spec.SigmaW:0.###}, sigma_b = {spec.SigmaB:0.###}, N = {spec.Width}", "depth L (weight layers)", "s_cr (bounds capped at 1)", series);
    }

    /// <summary>Rescaling factors for every (width, sparsity), t_n exact up to <paramref name="exactMaxWidth"/>, and the edges of stability.</summary>
    public static RescalingReport Rescaling(IReadOnlyList<int> widths, IReadOnlyList<double> sparsities, int exactMaxWidth = 256) =>
        new(RescalingStudy.Table(widths, sparsities, exactMaxWidth), RescalingStudy.Edges(widths));

    /// <summary>Draws the rescaling factors against sparsity: random, magnitude large-n, and magnitude exact per width where computed.</summary>
    public static void PlotRescaling(string path, RescalingReport report)
    {
        var rows = report.Rows;
        var byWidth = rows.GroupBy(r => r.Width).ToList();
        var first = byWidth[0].ToList();
        var series = new List<Series>
        {
            new("random (1 − s)^(−1/2)", [.. first.Select(r => r.Sparsity)], [.. first.Select(r => r.Random)]),
            new("magnitude t_n, large n", [.. first.Select(r => r.Sparsity)], [.. first.Select(r => r.MagnitudeLargeN)]),
        };
        foreach (var g in byWidth.Where(g => g.All(r => r.MagnitudeExact is not null)))
            series.Add(new($"magnitude t_n exact, n = {g.Key}", [.. g.Select(r => r.Sparsity)], [.. g.Select(r => r.MagnitudeExact!.Value)]));
        var ticks = rows.Select(r => r.Sparsity).Distinct().Order().Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)).ToList();
        Plots.Lines(path, "Rescaling factor after pruning (seed 002)", "sparsity s", "scale factor", series, xTickLabels: ticks);
    }

    /// <summary>
    /// Keep probabilities for layers of the given σ_w; σ_w,EOC is <paramref name="sigmaWEoc"/> when given, else the EOC of
    /// (<paramref name="activation"/>, <paramref name="sigmaB"/>).
    /// </summary>
    public static KeepProbabilityReport KeepProbability(string activation, double sigmaB, IReadOnlyList<double> sigmaW, double? sigmaWEoc = null)
    {
        double eoc = sigmaWEoc ?? EdgeOfChaos.SigmaW(activation, sigmaB);
        var p = KeepProbabilities.ForLayers(eoc, sigmaW);
        var layers = sigmaW.Select((v, i) => new KeepProbabilityLayer(i + 1, v, p[i], 1 - p[i], v * Math.Sqrt(p[i]))).ToList();
        return new KeepProbabilityReport(activation, sigmaB, eoc, layers, sigmaWEoc is not null);
    }
}
