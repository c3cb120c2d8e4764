using InitPrune.Engine;
using InitPrune.Reporting;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>Which of seed 003's theorems <see cref="ProbabilisticReports.QkBounds"/> evaluates.</summary>
[Flags]
public enum QkTheorems
{
    None = 0,
    /// <summary>Theorem 1: magnitude pruning of an FCN.</summary>
    Magnitude = 1,
    /// <summary>Theorem 2: random pruning of an FCN.</summary>
    Random = 2,
    /// <summary>Theorem 3: random filter pruning of a circular CNN.</summary>
    Convolution = 4,
    All = Magnitude | Random | Convolution,
}

/// <summary>
/// The inputs of seed 003 Theorems 1–3 together (<c>initprune theory qk-bounds</c>). Theorems 1 and 2 read the widths d_0..d_l;
/// Theorem 3 takes its depth l from them and its Lipschitz constant from the first of <paramref name="Lipschitz"/> (1 when empty).
/// </summary>
/// <param name="Lipschitz">L_1..L_{l−1} (one value is repeated).</param>
/// <param name="NormBounds">Theorem 2: N_1..N_l (one value is repeated).</param>
/// <param name="NormDeltas">Theorem 2: δ_1..δ_l (one value is repeated).</param>
/// <param name="Channels">Theorem 3: channels d of every inner convolution; with <paramref name="InputChannels"/>, <paramref name="Outputs"/>,
/// <paramref name="Spatial"/>, <paramref name="InputSpatial"/>, <paramref name="KernelSize"/>, <paramref name="Beta1"/>, <paramref name="Beta2"/>
/// as in <see cref="ConvPruningInput"/>.</param>
/// <param name="K">Theorem 1: weights U[−K/√max(d_k,d_{k−1}), +K/√…].</param>
/// <param name="C0">Theorem 1: Lemma 3's bound (default 1.218·K).</param>
/// <param name="Delta0">Theorem 1: Lemma 3's rate δ0.</param>
/// <param name="LatalaC">The universal constant C of Lemma 4 (all three theorems).</param>
public sealed record QkBoundsRequest(int[] Widths, double Alpha, double Epsilon, double Delta, double[] Lipschitz,
    double[] NormBounds, double[] NormDeltas,
    int Channels, int InputChannels, int Outputs, int Spatial, int InputSpatial, int KernelSize, double Beta1, double Beta2,
    QkTheorems Theorems = QkTheorems.All, double K = 1, double? C0 = null, double Delta0 = ProbabilisticConstants.Table2Delta0,
    double LatalaC = ProbabilisticConstants.Table3C, double K1 = 1, double K2 = 3, double MomentC1 = 1, double MomentC2 = 3, double? C5 = null);

/// <summary>What seed 003 Theorems 1–3 guarantee for one request; a theorem not asked for is null.</summary>
public sealed record QkBoundsReport(int[] Widths, double Alpha, double Epsilon, double Delta,
    MagnitudePruningReport? Theorem1, RandomPruningReport? Theorem2, ConvPruningReport? Theorem3);

/// <summary>One row of the Monte-Carlo Table 2 beside the paper's row for the same (n1, n2, K), null where the paper has none.</summary>
public sealed record Table2Comparison(Table2Row Ours, PaperTable2Row? Paper)
{
    /// <summary>E‖B‖₂ ours / paper − 1; null without a paper row.</summary>
    public double? MeanRelativeDifference => Paper is { } p ? Ours.Mean / p.Mean - 1 : null;
}

/// <summary>Seed 003 Table 2 by Monte Carlo (<c>initprune theory table2</c>): K = 1 and √3 for every pair n1 ≤ n2, each beside the paper.</summary>
public sealed record Table2Report(int Trials, long Seed, IReadOnlyList<Table2Comparison> Rows);

/// <summary>One row of the Monte-Carlo Table 3 beside the paper's row for the same (d, distribution, α), null where the paper has none.</summary>
public sealed record Table3Comparison(Table3Row Ours, PaperTable3Row? Paper)
{
    /// <summary>E‖A‖₂ ours / paper − 1; null without a paper row.</summary>
    public double? MeanNormRelativeDifference => Paper is { } p ? Ours.MeanNorm / p.MeanNorm - 1 : null;
}

/// <summary>Seed 003 Table 3 by Monte Carlo (<c>initprune theory table3</c>): each distribution and size beside the paper.</summary>
public sealed record Table3Report(int Trials, long Seed, IReadOnlyList<Table3Comparison> Rows);

/// <summary>
/// The spectral norm of one circular convolution (<c>initprune theory conv-norm</c>) by Lemma 7's FFT formula and, unless skipped,
/// by the SVD of its dense matrix (Eqs. 7–9), with the largest gap between that matrix times a random image and libtorch's conv2d.
/// </summary>
public sealed record ConvNormReport(int Size, int KernelSize, int InChannels, int OutChannels, double FftNorm, double? DenseNorm, double? AbsDifference, double? MaxConvError);

/// <summary>The seed 003 commands' computations: each takes the options' values and returns one typed report.</summary>
public static class ProbabilisticReports
{
    /// <summary>Evaluates the theorems asked for in <paramref name="x"/>.</summary>
    public static QkBoundsReport QkBounds(QkBoundsRequest x)
    {
        var t1 = x.Theorems.HasFlag(QkTheorems.Magnitude)
            ? MagnitudePruningBound.Evaluate(new(x.Widths, x.Alpha, x.Epsilon, x.Delta, x.Lipschitz, x.K, x.C0, x.Delta0, x.LatalaC)) : null;
        var t2 = x.Theorems.HasFlag(QkTheorems.Random)
            ? RandomPruningBound.Evaluate(new(x.Widths, x.Alpha, x.Epsilon, x.Delta, x.Lipschitz, x.NormBounds, x.NormDeltas, x.K1, x.K2, x.LatalaC)) : null;
        var t3 = x.Theorems.HasFlag(QkTheorems.Convolution)
            ? ConvPruningBound.Evaluate(new(x.Widths.Length - 1, x.Channels, x.InputChannels, x.Outputs, x.Spatial, x.InputSpatial, x.KernelSize,
                x.Lipschitz.FirstOrDefault(1), x.Alpha, x.Beta1, x.Beta2, x.Epsilon, x.MomentC1, x.MomentC2, x.LatalaC, x.C5)) : null;
        return new QkBoundsReport(x.Widths, x.Alpha, x.Epsilon, x.Delta, t1, t2, t3);
    }

    /// <summary>
    /// Table 2 rows (K = 1 and √3) for every pair n1 ≤ n2 of the distinct <paramref name="sizes"/>, <paramref name="trials"/> matrices each,
    /// paired with <see cref="Seed003Tables.Table2"/>; <paramref name="pairDone"/> hears of each (n1, n2) as it finishes.
    /// </summary>
    public static Table2Report Table2(IReadOnlyList<int> sizes, int trials, long seed, Action<int, int>? pairDone = null)
    {
        var n = sizes.Distinct().Order().ToArray();
        var rows = new List<Table2Row>();
        foreach (var (n1, n2) in n.SelectMany((a, i) => n.Skip(i).Select(b => (a, b))))
        {
            rows.AddRange(UniformNormStudy.Rows(n1, n2, [1, Math.Sqrt(3)], trials, seed));
            pairDone?.Invoke(n1, n2);
        }
        return new Table2Report(trials, seed, [.. rows.Select(x => new Table2Comparison(x, PaperRow(x)))]);
    }

    /// <summary>The paper's Table 2 row for the same (n1, n2, K) as <paramref name="row"/>, or null.</summary>
    public static PaperTable2Row? PaperRow(Table2Row row) =>
        Seed003Tables.Table2.FirstOrDefault(p => p.N1 == row.N1 && p.N2 == row.N2 && Math.Abs(p.K - row.K) < 1e-9);

    /// <summary>Draws E‖B‖₂ for K = 1 against n1×n2, ours with ± std beside the paper's.</summary>
    public static void PlotTable2(string path, Table2Report report)
    {
        var ones = report.Rows.Where(p => p.Ours.K == 1).ToList();
        var x = ones.Select((_, i) => (double)i).ToArray();
        var withPaper = ones.Select((p, i) => (p, i)).Where(t => t.p.Paper is not null).ToList();
        Plots.Lines(path, "Seed 003 Table 2: E‖B‖₂, K = 1", "n1×n2", "E‖B‖₂",
            [new("ours", x, [.. ones.Select(p => p.Ours.Mean)], [.. ones.Select(p => p.Ours.Std)]),
             new("paper", [.. withPaper.Select(t => (double)t.i)], [.. withPaper.Select(t => t.p.Paper!.Mean)])],
            xTickLabels: [.. ones.Select(p => $"{p.Ours.N1}×{p.Ours.N2}")]);
    }

    /// <summary>
    /// Table 3 rows: U, N(0, 1/d) and N(0, 3/d) for each size, then the pruned N(0, 1/d) for each α and size, <paramref name="trials"/>
    /// matrices each, paired with <see cref="Seed003Tables.Table3"/>; <paramref name="rowDone"/> hears of each row as it finishes.
    /// </summary>
    public static Table3Report Table3(IReadOnlyList<int> sizes, IReadOnlyList<double> alphas, int trials, long seed, Action<Table3Row>? rowDone = null)
    {
        var settings = new[] { Lemma4Distribution.Uniform, Lemma4Distribution.Normal1, Lemma4Distribution.Normal3 }
            .SelectMany(dist => sizes.Select(d => (D: d, Dist: dist, Alpha: (double?)null)))
            .Concat(alphas.SelectMany(a => sizes.Select(d => (D: d, Dist: Lemma4Distribution.PrunedNormal1, Alpha: (double?)a))));
        var rows = new List<Table3Comparison>();
        foreach (var st in settings)
        {
            var row = LatalaStudy.Row(st.D, st.Dist, st.Alpha, trials, seed);
            rowDone?.Invoke(row);
            rows.Add(new Table3Comparison(row, PaperRow(row)));
        }
        return new Table3Report(trials, seed, rows);
    }

    /// <summary>The paper's Table 3 row for the same (d, distribution, α) as <paramref name="row"/>, or null.</summary>
    public static PaperTable3Row? PaperRow(Table3Row row) =>
        Seed003Tables.Table3.FirstOrDefault(p => p.D == row.D && p.Distribution == row.Distribution && p.Alpha == row.Alpha);

    /// <summary>How the reports name a Table 3 distribution, e.g. "N(0, 1/d) pruned, α = 0.5".</summary>
    public static string DistributionName(Lemma4Distribution d, double? alpha) => d switch
    {
        Lemma4Distribution.Uniform => "U[−√(3/d), √(3/d)]",
        Lemma4Distribution.Normal1 => "N(0, 1/d)",
        Lemma4Distribution.Normal3 => "N(0, 3/d)",
        _ => $"N(0, 1/d) pruned, α = {alpha}",
    };

    /// <summary>Draws the implied Latała constant C against d, one line per distribution.</summary>
    public static void PlotTable3(string path, Table3Report report)
    {
        var groups = report.Rows.GroupBy(p => DistributionName(p.Ours.Distribution, p.Ours.Alpha)).ToList();
        Plots.Lines(path, "Seed 003 Table 3: implied Latała constant C = E‖A‖₂ / (sum of terms)", "d", "C",
            [.. groups.Select(g => new Series(g.Key, [.. g.Select(p => (double)p.Ours.D)], [.. g.Select(p => p.Ours.C)]))]);
    }

    /// <summary>Largest n·n·max(d, d') for which <see cref="ConvNorm"/> builds the dense matrix and its SVD.</summary>
    public const long MaxDenseSize = 4096;

    /// <summary>
    /// ‖W‖₂ of the circular convolution of an n×n image (<paramref name="size"/>) with a [d', d, k, k] kernel: <paramref name="kernel"/>
    /// row-major (k from its length), or N(0, 1) entries (k = <paramref name="kernelSize"/>) drawn from <paramref name="seed"/>; with
    /// <paramref name="dense"/> also by the dense matrix's SVD and its product with a random image checked against conv2d.
    /// </summary>
    public static ConvNormReport ConvNorm(int size, int kernelSize, int inChannels, int outChannels, double[]? kernel, bool dense, long seed)
    {
        int n = size, dIn = inChannels, dOut = outChannels;
        if (n < 1 || dIn < 1 || dOut < 1) throw new InitPruneException("--size, --in-channels and --out-channels must be positive");
        using var gen = new Generator((ulong)Seeds.For(seed, "conv-norm"));
        using var k = Kernel(kernel, kernelSize, dOut, dIn, gen);
        double fftNorm = CircularConvolution.SpectralNormFft(k, n);
        double? denseNorm = null, convError = null;
        if (dense)
        {
            if ((long)n * n * Math.Max(dIn, dOut) > MaxDenseSize) throw new InitPruneException($"the dense matrix would be {dOut * n * n}×{dIn * n * n}: too large for an SVD here; pass --no-dense or a smaller --size");
            denseNorm = CircularConvolution.SpectralNormDense(k, n);
            using var img = randn([dIn, n, n], dtype: ScalarType.Float64, generator: gen);
            using var w = CircularConvolution.Matrix(k, n);
            using var viaMatrix = w.matmul(img.flatten()).view(dOut, n, n);
            using var viaConv = CircularConvolution.Apply(k, img);
            using var diff = viaMatrix.sub(viaConv).abs().max();
            convError = diff.item<double>();
        }
        return new ConvNormReport(n, (int)k.shape[^1], dIn, dOut, fftNorm, denseNorm, denseNorm is { } dn ? Math.Abs(dn - fftNorm) : null, convError);
    }

    static Tensor Kernel(double[]? values, int k, int dOut, int dIn, Generator gen)
    {
        if (values is null)
        {
            if (k < 1) throw new InitPruneException($"--kernel-size {k} must be positive");
            return randn([dOut, dIn, k, k], dtype: ScalarType.Float64, generator: gen);
        }
        int side = (int)Math.Round(Math.Sqrt(values.Length / (double)(dOut * dIn)));
        if (side < 1 || side * side * dOut * dIn != values.Length)
            throw new InitPruneException($"--kernel has {values.Length} values: need d'·d·k² = {dOut}·{dIn}·k² for a square k×k kernel");
        return tensor(values, dtype: ScalarType.Float64).view(dOut, dIn, side, side);
    }
}
