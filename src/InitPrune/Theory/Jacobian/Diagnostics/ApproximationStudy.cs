using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Reporting;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>How the simulated networks' weights are drawn: i.i.d. N(0, σw²/fan_in), or seed 002 App. F's W + η·w^k (<see cref="CorrelatedInit"/>).</summary>
public enum ApproximationInit
{
    Iid,
    Correlated,
}

/// <summary>
/// The Approximation 1 diagnostics (seed 002 App. G.1–G.2, Figs. 6–11): <paramref name="Simulations"/> ReLU MLPs of width n = <paramref name="Width"/>
/// and depth L = <paramref name="Depth"/> at one fixed input, repeated <paramref name="Repeats"/> times with fresh seeds; or, with
/// <paramref name="WeightFiles"/>, the networks in those files (one simulation per file; a single file is simulated over
/// <paramref name="Simulations"/> random inputs instead).
/// </summary>
/// <param name="Layer">l of the scatter, the within-layer tests, the frequency and T_W/T_D (default min(10, L), the paper's l = 10).</param>
/// <param name="Pairs">χ² tests per repeat and family: disjoint unit pairs of D_l (at most n/2), and pairs of entries of D_l and another D_l'.</param>
/// <param name="InputDim">d of the input x ~ N(0, I_d), drawn once (default n).</param>
public sealed record ApproximationRequest(int Width = 100, int Depth = 30, int Simulations = 1000, double SigmaW2 = 2,
    ApproximationInit Init = ApproximationInit.Iid, double Eta = 0, IReadOnlyList<string>? WeightFiles = null, int? Layer = null,
    int Pairs = 50, int Repeats = 1, int? InputDim = null, bool Yates = false, double Level = 0.95, long Seed = 0);

/// <summary>One χ² test between D_{LayerA}^{UnitA} and D_{LayerB}^{UnitB} over the simulations.</summary>
/// <remarks><see cref="RandomizedPValue"/>: <see cref="IndependenceTests.RandomizedPValue"/>, exactly U(0, 1) under independence.</remarks>
public sealed record PairTest(string Pair, int LayerA, int UnitA, int LayerB, int UnitB, Table2x2 Table, double Statistic, double PValue, double RandomizedPValue, bool Degenerate);

/// <summary>Fig. 6/8/10's data: three random entries of D_l over the simulations (0/1) and the χ² test of each pair.</summary>
public sealed record ApproximationEntries(int Layer, int[] Units, int[][] Values, PairTest[] Pairs);

/// <summary>
/// The p-values of one family of χ² tests over pairs and repeats and Kolmogorov–Smirnov tests of their uniformity: <see cref="Uniformity"/> of
/// the asymptotic χ² p-values (the paper's observation; they sit on a lattice, so with ~1000 tables KS can reject them even under
/// independence) and <see cref="RandomizedUniformity"/> of the randomized conditional p-values (exactly U(0, 1) under independence; the
/// verdict uses it). Degenerate tables (an entry constant over the simulations) have no p-value and are counted apart.
/// </summary>
public sealed record PValueFamily(string Family, int Tests, int Degenerate, double[] PValues, double[] RandomizedPValues, double FractionBelow005,
    KsTest Uniformity, KsTest RandomizedUniformity);

/// <summary>
/// The frequency of 1s: all entries of D_l over the simulations (and repeats) with its Clopper–Pearson interval, the three scatter entries,
/// every layer, and the fraction of units of D_l whose own interval over the simulations excludes ½ (≈ 1 − level when Bernoulli(½)).
/// </summary>
public sealed record FrequencyReport(Proportion Layer, Proportion[] Entries, Proportion[] PerLayer, double UnitsExcludingHalf);

/// <summary>
/// Fig. 7/9/11's data: T_W = (1/n²) Σ 1{W_l^{ij} &gt; 0} and T_D = (1/n) Σ 1{D_l^i = 1} per simulation with their correlation; and the
/// control T_W(W_{l+1}) against T_D(D_l), independent by construction for drawn networks (W_{l+1} is drawn after Y_l).
/// </summary>
public sealed record WeightDependence(double[] TW, double[] TD, CorrelationTest Same, double[]? TWNext, CorrelationTest? Next);

/// <summary>
/// Whether the measurements are consistent with Approximation 1 at the 1% level: ½ inside the frequency interval, uniform randomized p-values
/// within and across layers, T_W and T_D uncorrelated (null when T_W does not vary).
/// </summary>
public sealed record ApproximationVerdict(bool FrequencyHalf, bool WithinLayerUniform, bool AcrossLayersUniform, bool? WeightsUncorrelated, bool Holds);

public sealed record ApproximationReport(string Source, int Width, int Depth, int Simulations, int Repeats, double SigmaW2, double Eta,
    double WeightCorrelation, string[]? WeightFiles, string SimulatedOver, int Layer, long Seed, bool Yates, double Level,
    ApproximationEntries Entries, PValueFamily WithinLayer, PValueFamily AcrossLayers, FrequencyReport Frequency, WeightDependence Weights,
    ApproximationVerdict Verdict, double Seconds);

/// <summary>Seed 002 App. G.1–G.2: is diag(D_l) i.i.d. Bernoulli(½) and independent of W (Approximation 1)?</summary>
public static class ApproximationStudy
{
    /// <summary>The significance level of the verdicts.</summary>
    public const double Alpha = 0.01;

    public static ApproximationReport Run(ApproximationRequest x, Action<int>? repeatDone = null)
    {
        var sw = Stopwatch.StartNew();
        Validate(x);
        bool files = x.WeightFiles is { Count: > 0 };
        int repeats = files ? 1 : x.Repeats;
        int threads = get_num_threads();
        // Matrices of n ≤ a few hundred: libtorch's intra-op threads only add synchronization.
        set_num_threads(1);
        try
        {
            var within = new List<PairTest>();
            var across = new List<PairTest>();
            ActivationPatterns? first = null;
            long[] ones = [];
            long[] trials = [];
            int layer = 0;
            for (int r = 0; r < repeats; r++)
            {
                var d = Patterns(x, files, r);
                layer = x.Layer ?? Math.Min(10, d.Depth);
                if (layer > d.Depth) throw new InitPruneException($"--layer {layer} is beyond the network's depth L = {d.Depth}");
                if (r == 0)
                {
                    first = d;
                    ones = new long[d.Layers];
                    trials = new long[d.Layers];
                }
                for (int l = 0; l < d.Layers; l++)
                {
                    ones[l] += d.Ones(l);
                    trials[l] += (long)d.Simulations * d.Width;
                }
                var rng = new Random((int)(Seeds.For(x.Seed, $"approximation/select/{r}") & int.MaxValue));
                var units = Permutation(d.Width, rng);
                for (int p = 0; p + 1 < d.Width && p / 2 < x.Pairs; p += 2)
                    within.Add(Test(d, $"{p / 2}", layer, units[p], layer, units[p + 1], x.Yates, rng));
                for (int p = 0; p < x.Pairs && d.Layers > 1; p++)
                {
                    int other = rng.Next(d.Layers - 1);
                    if (other >= layer) other++;
                    across.Add(Test(d, $"{p}", layer, rng.Next(d.Width), other, rng.Next(d.Width), x.Yates, rng));
                }
                repeatDone?.Invoke(r);
            }
            var f = first!;
            var selRng = new Random((int)(Seeds.For(x.Seed, "approximation/select/0") & int.MaxValue));
            int[] three = [.. Permutation(f.Width, selRng).Take(Math.Min(3, f.Width))];
            var entries = new ApproximationEntries(layer, three, [.. three.Select(i => f.Entry(layer, i).Select(b => b ? 1 : 0).ToArray())],
                [.. Enumerable.Range(0, three.Length).SelectMany(a => Enumerable.Range(a + 1, three.Length - a - 1).Select(b =>
                    Test(f, $"{a + 1}-{b + 1}", layer, three[a], layer, three[b], x.Yates, selRng)))]);
            var frequency = new FrequencyReport(IndependenceTests.Binomial(ones[layer], trials[layer], x.Level),
                [.. three.Select(i => IndependenceTests.Binomial(f.Entry(layer, i).Count(b => b), f.Simulations, x.Level))],
                [.. ones.Select((k, l) => IndependenceTests.Binomial(k, trials[l], x.Level))],
                Enumerable.Range(0, f.Width).Count(i => !IndependenceTests.Binomial(f.Entry(layer, i).Count(b => b), f.Simulations, x.Level).Contains(0.5)) / (double)f.Width);
            var weights = Dependence(f, layer);
            var withinFamily = Family("within-layer", within);
            var acrossFamily = Family("across-layers", across);
            bool half = frequency.Layer.Contains(0.5);
            bool wu = !(withinFamily.RandomizedUniformity.PValue < Alpha), au = !(acrossFamily.RandomizedUniformity.PValue < Alpha);
            bool? uncorrelated = double.IsNaN(weights.Same.PValue) ? null : weights.Same.PValue >= Alpha;
            var verdict = new ApproximationVerdict(half, wu, au, uncorrelated, half && wu && au && uncorrelated != false);
            string source = files ? "weights" : x.Init.ToString().ToLowerInvariant();
            double eta = x.Init == ApproximationInit.Correlated && !files ? x.Eta : 0;
            return new ApproximationReport(source, f.Width, f.Depth, f.Simulations, repeats, files ? double.NaN : x.SigmaW2, eta,
                CorrelatedInit.Correlation(eta), files ? [.. x.WeightFiles!] : null, files && x.WeightFiles!.Count == 1 ? "inputs" : "weights",
                layer, x.Seed, x.Yates, x.Level, entries, withinFamily, acrossFamily, frequency, weights, verdict, sw.Elapsed.TotalSeconds);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    static void Validate(ApproximationRequest x)
    {
        BoundInputs.Require(x.Simulations >= 3, $"simulations = {x.Simulations} must be ≥ 3");
        BoundInputs.Require(x.Pairs >= 1, $"pairs = {x.Pairs} must be ≥ 1");
        BoundInputs.Require(x.Level is > 0 and < 1, $"level = {x.Level} must lie in (0, 1)");
        if (x.WeightFiles is { Count: > 0 } fs)
        {
            BoundInputs.Require(fs.Count == 1 || fs.Count >= 3, $"{fs.Count} weights files: give one (simulated over random inputs) or ≥ 3 (one simulation each)");
            return;
        }
        BoundInputs.Require(x.Width >= 2, $"width = {x.Width} must be ≥ 2");
        BoundInputs.Require(x.Depth >= 1, $"depth = {x.Depth} must be ≥ 1");
        BoundInputs.Require(x.Repeats >= 1, $"repeats = {x.Repeats} must be ≥ 1");
        BoundInputs.Require(x.InputDim is null or >= 1, $"input dimension {x.InputDim} must be ≥ 1");
        BoundInputs.Positive(x.SigmaW2, "sigma_w^2");
        BoundInputs.Require(x.Eta >= 0 && double.IsFinite(x.Eta), $"eta = {x.Eta} must be ≥ 0");
        BoundInputs.Require(x.Layer is null || (x.Layer >= 0 && x.Layer <= x.Depth), $"layer {x.Layer} must lie in 0…L = {x.Depth}");
        BoundInputs.Require(x.Simulations * (double)(x.Depth + 1) * x.Width <= 2e9, "simulations × (depth + 1) × width exceeds 2·10⁹ recorded entries: use fewer simulations");
    }

    static ActivationPatterns Patterns(ApproximationRequest x, bool files, int repeat)
    {
        if (files) return ActivationPatterns.FromWeights(x.WeightFiles!, x.Simulations, x.Seed);
        int dim = x.InputDim ?? x.Width;
        var input = ActivationPatterns.Input(dim, x.Seed);
        double sigmaW = Math.Sqrt(x.SigmaW2);
        ILayerInit init = x.Init == ApproximationInit.Correlated ? new CorrelatedInit(sigmaW, 0, x.Eta) : IidInit.Normal(sigmaW, 0);
        return ActivationPatterns.Draw(x.Width, x.Depth, input, x.Simulations, init, Seeds.For(x.Seed, $"approximation/repeat/{repeat}"));
    }

    static int[] Permutation(int n, Random rng)
    {
        var p = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(p);
        return p;
    }

    static PairTest Test(ActivationPatterns d, string name, int la, int ua, int lb, int ub, bool yates, Random rng)
    {
        var t = Table2x2.Of(d.Entry(la, ua), d.Entry(lb, ub));
        var c = IndependenceTests.ChiSquare(t, yates);
        return new PairTest(name, la, ua, lb, ub, t, c.Statistic, c.PValue, IndependenceTests.RandomizedPValue(t, rng.NextDouble()), c.Degenerate);
    }

    static PValueFamily Family(string name, List<PairTest> tests)
    {
        var valid = tests.Where(t => !t.Degenerate).ToList();
        double[] p = [.. valid.Select(t => t.PValue)], rp = [.. valid.Select(t => t.RandomizedPValue)];
        return new(name, tests.Count, tests.Count - valid.Count, p, rp, p.Length == 0 ? double.NaN : p.Count(v => v < 0.05) / (double)p.Length,
            IndependenceTests.UniformKs(p), IndependenceTests.UniformKs(rp));
    }

    static WeightDependence Dependence(ActivationPatterns d, int l)
    {
        int n = d.Simulations;
        double[] tw = [.. Enumerable.Range(0, n).Select(s => d.PositiveWeightFraction(s, l))];
        double[] td = [.. Enumerable.Range(0, n).Select(s => d.ActiveFraction(s, l))];
        if (l >= d.Depth) return new(tw, td, IndependenceTests.Correlation(tw, td), null, null);
        double[] next = [.. Enumerable.Range(0, n).Select(s => d.PositiveWeightFraction(s, l + 1))];
        return new(tw, td, IndependenceTests.Correlation(tw, td), next, IndependenceTests.Correlation(next, td));
    }

    /// <summary>
    /// Writes scatter-1-2.png, scatter-1-3.png, scatter-2-3.png (Fig. 6: pairs of the three entries with N(0, 0.01) jitter), tw-td.png (Fig. 7),
    /// pvalues.png (densities of the χ² p-values, 10 bins, beside U(0, 1)) and frequency.png (the frequency of 1s per layer with its interval);
    /// returns the file names.
    /// </summary>
    public static string[] Plot(string dir, ApproximationReport r)
    {
        var names = new List<string>();
        var rng = new Random((int)(Seeds.For(r.Seed, "approximation/jitter") & int.MaxValue));
        double Jitter(int v) => v + 0.1 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        string setting = r.Source == "weights" ? $"{r.WeightFiles!.Length} weights file(s)" : r.Source == "correlated" ? $"correlated η = {r.Eta:g3}" : $"i.i.d. σw² = {r.SigmaW2:g3}";
        foreach (var pair in r.Entries.Pairs)
        {
            int a = pair.Pair[0] - '1', b = pair.Pair[2] - '1';
            var name = $"scatter-{pair.Pair}.png";
            Plots.Points(Path.Combine(dir, name), $"D_{r.Layer} entries {a + 1} (unit {pair.UnitA}) and {b + 1} (unit {pair.UnitB}), {setting}: χ² {pair.Statistic:0.###}, p {pair.PValue:0.###}",
                $"entry {a + 1} (+ N(0, 0.01) jitter)", $"entry {b + 1} (+ N(0, 0.01) jitter)",
                [new($"{r.Simulations} simulations", [.. r.Entries.Values[a].Select(Jitter)], [.. r.Entries.Values[b].Select(Jitter)])]);
            names.Add(name);
        }
        Plots.Points(Path.Combine(dir, "tw-td.png"), $"T_W against T_D at l = {r.Layer}, {setting}: r = {r.Weights.Same.R:0.###}, p = {r.Weights.Same.PValue:g3}",
            "T_W (fraction of W_l > 0)", "T_D (fraction of D_l = 1)", [new($"{r.Simulations} simulations", r.Weights.TW, r.Weights.TD)]);
        names.Add("tw-td.png");
        const int bins = 10;
        double[] centers = [.. Enumerable.Range(0, bins).Select(i => (i + 0.5) / bins)];
        double[] Density(double[] p) => p.Length == 0 ? new double[bins]
            : [.. Enumerable.Range(0, bins).Select(i => p.Count(v => Math.Min((int)(v * bins), bins - 1) == i) * (double)bins / p.Length)];
        Plots.Lines(Path.Combine(dir, "pvalues.png"), $"χ² p-values, {setting}: KS p within {r.WithinLayer.Uniformity.PValue:g3} (randomized {r.WithinLayer.RandomizedUniformity.PValue:g3}), across {r.AcrossLayers.Uniformity.PValue:g3} ({r.AcrossLayers.RandomizedUniformity.PValue:g3})",
            "p-value", "density",
            [new($"within D_{r.Layer} ({r.WithinLayer.PValues.Length})", centers, Density(r.WithinLayer.PValues)),
             new($"D_{r.Layer} vs other D_l ({r.AcrossLayers.PValues.Length})", centers, Density(r.AcrossLayers.PValues)),
             new("within, randomized", centers, Density(r.WithinLayer.RandomizedPValues)),
             new("across, randomized", centers, Density(r.AcrossLayers.RandomizedPValues)),
             new("U(0, 1)", centers, [.. centers.Select(_ => 1.0)])]);
        names.Add("pvalues.png");
        var per = r.Frequency.PerLayer;
        double[] layers = [.. Enumerable.Range(0, per.Length).Select(l => (double)l)];
        Plots.Lines(Path.Combine(dir, "frequency.png"), $"Frequency of D_l = 1 per layer, {setting} ({100 * r.Level:0.#}% Clopper–Pearson)", "layer l", "fraction of 1s",
            [new("measured", layers, [.. per.Select(p => p.Fraction)], [.. per.Select(p => Math.Max(p.Upper - p.Fraction, p.Fraction - p.Lower))]),
             new("Bernoulli(½)", layers, [.. layers.Select(_ => 0.5)])]);
        names.Add("frequency.png");
        return [.. names];
    }
}
