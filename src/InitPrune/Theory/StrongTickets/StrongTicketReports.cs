using InitPrune.Engine;
using InitPrune.Reporting;

namespace InitPrune.Theory;

/// <summary>
/// What <see cref="StrongTicketReports.Width"/> computes widths for: a dense target of widths <paramref name="Architecture"/> (n_0 first)
/// with |w| ≤ <paramref name="MaxWeight"/>, or, when <paramref name="TargetFile"/> is given, the MLP saved there (.safetensors), whose
/// Lemma 4 tolerances are then checked on <paramref name="ProbeSamples"/> random inputs drawn from <paramref name="Seed"/>.
/// </summary>
/// <param name="C">The universal constant C of Theorem 5.</param>
public sealed record TicketWidthRequest(int[] Architecture, double Epsilon, double Delta, double C, IReadOnlyList<TicketBoundVariant> Variants,
    double MaxWeight = 1, string? TargetFile = null, int ProbeSamples = 4096, long Seed = 0);

/// <summary>
/// Seed 004 Lemma 4 checked on a target's parameters: the largest ‖f − f_ε‖₂ over the probes when every non-zero parameter of layer l is
/// shifted by +ε_l, and whether it stays within ε.
/// </summary>
public sealed record Lemma4Check(TicketBoundVariant Variant, double MaxShiftError, double Epsilon, bool Holds);

/// <summary>
/// Lemma 4 tolerances and Theorem 5 widths (<c>initprune theory slt-width</c>) for each statement asked for; with a target file, also the
/// Lemma 4 check of each (null otherwise).
/// </summary>
public sealed record TicketWidthReport(TargetNetwork Target, IReadOnlyList<TicketWidthResult> Results, IReadOnlyList<Lemma4Check>? Lemma4Checks);

/// <summary>One scheme (iid or looks-linear) of <see cref="OutputNormReport"/>: the network and the formula beside the simulated mean.</summary>
public sealed record OutputNormRow(string Scheme, OutputNormSetup Setup, OutputNormEstimate Estimate);

/// <summary>
/// Seed 004 Lemma 3 (and its looks-linear variant) by formula and simulation (<c>initprune theory slt-norm</c>), one row per scheme.
/// The command's JSON is <see cref="Rows"/>.
/// </summary>
public sealed record OutputNormReport(double[] Input, int[] Widths, ParameterDistribution Distribution, IReadOnlyList<OutputNormRow> Rows)
{
    /// <summary>‖x0‖².</summary>
    public double InputNormSq => Input.Sum(v => v * v);
}

/// <summary>The seed 004 commands' computations: each takes the options' values and returns one typed report.</summary>
public static class StrongTicketReports
{
    /// <summary>Theorem 5 widths for each variant and, for a target file, the Lemma 4 check of its tolerances.</summary>
    public static TicketWidthReport Width(TicketWidthRequest x)
    {
        var parameters = x.TargetFile is { } file ? TargetParameters.Load(file) : null;
        var target = parameters is null ? TargetNetwork.Dense(x.Architecture, x.MaxWeight) : TargetNetwork.FromParameters(parameters.Weights, parameters.Biases);
        var results = x.Variants.Select(v => TicketWidth.Compute(target, x.Epsilon, x.Delta, x.C, v)).ToList();
        var checks = parameters is null ? null : results.Select(res =>
        {
            var tolerances = res.Layers.Select(l => l.EpsilonL).ToArray();
            double error = ErrorPropagation.ShiftedError(parameters.Weights, parameters.Biases, tolerances, ErrorPropagation.Probe(target.InputWidth, x.ProbeSamples, x.Seed));
            return new Lemma4Check(res.Variant, error, x.Epsilon, error <= x.Epsilon);
        }).ToList();
        return new TicketWidthReport(target, results, checks);
    }

    /// <summary>
    /// E‖f(x0)‖² by formula and by the mean over <paramref name="draws"/> freshly drawn MLPs (ReLU on every layer), for each scheme in
    /// <paramref name="looksLinear"/> (false: iid, Lemma 3; true: looks-linear, §3.2). σ_w defaults to He, √(2/n_l); σ_b to Π_{m≤l} σ_w,m.
    /// </summary>
    public static OutputNormReport Norm(double[] input, int[] widths, double[]? sigmaW, double[]? sigmaB, ParameterDistribution distribution,
        IReadOnlyList<bool> looksLinear, int draws, long seed)
    {
        var sw = sigmaW ?? [.. widths.Select(w => Math.Sqrt(2.0 / Math.Max(w, 1)))];
        var sb = sigmaB ?? OutputNorm.ProductBiasScale(sw);
        var rows = looksLinear.Select((ll, i) =>
        {
            var setup = new OutputNormSetup(input, widths, sw, sb, distribution, ll);
            return new OutputNormRow(ll ? "looks-linear" : "iid", setup, OutputNormSimulation.Run(setup, draws, Seeds.For(seed, $"slt-norm/{i}")));
        }).ToList();
        return new OutputNormReport(input, widths, distribution, rows);
    }

    /// <summary>Draws log10 of the median best subset-sum error against n beside the Poisson prediction.</summary>
    public static void PlotSubsetSum(string path, SubsetSumResult result)
    {
        var ns = result.Rows.Select(row => (double)row.N).ToArray();
        Plots.Lines(path, "Best subset-sum error of n products w1·w2", "n", "log10(median best error)",
            [new Series("simulation (median)", ns, [.. result.Rows.Select(row => Math.Log10(row.MedianError))]),
             new Series("Poisson prediction", ns, [.. result.Rows.Select(row => Math.Log10(row.PoissonMedian))])]);
    }
}
