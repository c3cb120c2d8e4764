using InitPrune.Engine;
using MathNet.Numerics.Statistics;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>One (n1, n2, K) row of seed 003 Table 2: ‖B‖₂ of B with i.i.d. U[−K/√n, K/√n] entries, n = max(n1, n2).</summary>
/// <param name="C0">Empirical q-quantile of ‖B‖₂, one per confidence in <see cref="Confidences"/>.</param>
/// <param name="Delta0">δ0 solving q = 1 − 2e^{−4δ0 n}, one per confidence.</param>
public sealed record Table2Row(int N1, int N2, double K, int Trials, double Mean, double Std, double[] Confidences, double[] C0, double[] Delta0);

/// <summary>Monte-Carlo study of seed 003 Lemma 3 (App. D.3, Table 2).</summary>
public static class UniformNormStudy
{
    public static readonly double[] PaperConfidences = [0.95, 0.99, 0.999, 0.9999];

    /// <summary>Seed 003 App. D.3: δ0 from P(‖B‖₂ ≤ c0) = 1 − 2e^{−4δ0 n} = q, i.e. δ0 = log(2/(1−q))/(4n).</summary>
    public static double Delta0(double q, int n) => Math.Log(2 / (1 - q)) / (4.0 * n);

    /// <summary>‖B‖₂ of <paramref name="trials"/> independent n1×n2 matrices with U[−K/√n, K/√n] entries, float64.</summary>
    public static double[] Norms(int n1, int n2, double k, int trials, long seed)
    {
        Validate(n1, n2, k, trials);
        double bound = k / Math.Sqrt(Math.Max(n1, n2));
        using var gen = new Generator((ulong)seed);
        var norms = new List<double>(trials);
        for (int done = 0, chunk = SpectralNorms.Chunk(n1, n2, trials); done < trials; done += chunk)
        {
            using var scope = NewDisposeScope(); // frees every intermediate of this batch
            int b = Math.Min(chunk, trials - done);
            var m = rand([b, n1, n2], dtype: ScalarType.Float64, generator: gen).mul_(2 * bound).sub_(bound).to(Compute.Device);
            norms.AddRange(SpectralNorms.Of(m));
        }
        return [.. norms];
    }

    /// <summary>
    /// One Table 2 row per K, all K sharing the same uniform draws (‖B‖₂ is linear in K, so the rows for K and K' differ by
    /// the factor K'/K exactly, as the paper's K = 1 and K = √3 rows do up to sampling error).
    /// </summary>
    public static Table2Row[] Rows(int n1, int n2, IReadOnlyList<double> ks, int trials, long seed, IReadOnlyList<double>? confidences = null)
    {
        var qs = (confidences ?? PaperConfidences).ToArray();
        if (qs.Any(q => q <= 0 || q >= 1)) throw new InitPruneException("every confidence q must lie in (0, 1)");
        var unit = Norms(n1, n2, 1, trials, Seeds.For(seed, $"table2/{n1}x{n2}"));
        int n = Math.Max(n1, n2);
        return [.. ks.Select(k =>
        {
            var norms = unit.Select(v => v * k).ToArray();
            return new Table2Row(n1, n2, k, trials, norms.Mean(), norms.StandardDeviation(), qs,
                [.. qs.Select(q => norms.QuantileCustom(q, QuantileDefinition.R7))], [.. qs.Select(q => Delta0(q, n))]);
        })];
    }

    static void Validate(int n1, int n2, double k, int trials)
    {
        if (n1 < 1 || n2 < 1) throw new InitPruneException($"matrix size {n1}×{n2} must be positive");
        if (!(k > 0) || !double.IsFinite(k)) throw new InitPruneException($"K = {k} must be positive");
        if (trials < 2) throw new InitPruneException($"--trials {trials} is too few: need at least 2 matrices for a standard deviation");
    }
}
