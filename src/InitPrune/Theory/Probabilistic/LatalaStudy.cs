using System.Text.Json.Serialization;
using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>The entry distributions of seed 003 Table 3 for a d×d matrix A.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Lemma4Distribution>))]
public enum Lemma4Distribution
{
    /// <summary>U[−√(3/d), √(3/d)].</summary>
    Uniform,
    /// <summary>N(0, 1/d).</summary>
    Normal1,
    /// <summary>N(0, 3/d).</summary>
    Normal3,
    /// <summary>N(0, 1/d) with ⌊d^{2−α}⌋ entries set to zero, drawn uniformly with replacement (the random pruning of Thm 2).</summary>
    PrunedNormal1,
}

/// <summary>
/// One row of seed 003 Table 3. <paramref name="Empirical"/> estimates each E A_ij², E A_ij⁴ by its average over the trials
/// (as the paper does, so its max over rows is biased upwards); <paramref name="Exact"/> uses the closed-form moments.
/// C = E‖A‖₂ / (sum of the terms), the smallest constant for which Eq. (13) holds.
/// </summary>
public sealed record Table3Row(int D, Lemma4Distribution Distribution, double? Alpha, int Trials, LatalaTerms Empirical, LatalaTerms Exact,
    double MeanNorm, double MeanNormStdErr, double C, double CExact);

/// <summary>Monte-Carlo study of seed 003 Lemma 4 (Latała's inequality; App. D.4, Table 3).</summary>
public static class LatalaStudy
{
    /// <summary>Number of entries zeroed in the pruned rows: ⌊d^{2−α}⌋ (seed 003 App. D.4).</summary>
    public static long Zeroed(int d, double alpha) => (long)Math.Floor(Math.Pow(d, 2 - alpha));

    /// <summary>Closed-form E A², E A⁴ of one entry.</summary>
    public static (double M2, double M4) Moments(int d, Lemma4Distribution dist, double? alpha)
    {
        // U[−a, a]: E A² = a²/3, E A⁴ = a⁴/5; N(0, v): v and 3v².
        // With m = ⌊d^{2−α}⌋ zeroings with replacement an entry survives with probability (1 − 1/d²)^m.
        return dist switch
        {
            Lemma4Distribution.Uniform => (1.0 / d, 9.0 / (5.0 * d * d)),
            Lemma4Distribution.Normal1 => (1.0 / d, 3.0 / ((double)d * d)),
            Lemma4Distribution.Normal3 => (3.0 / d, 27.0 / ((double)d * d)),
            _ => KeptNormal(d, alpha ?? throw new InitPruneException("the pruned distribution needs alpha")),
        };
    }

    static (double, double) KeptNormal(int d, double alpha)
    {
        double kept = Math.Pow(1 - 1.0 / ((double)d * d), Zeroed(d, alpha));
        return (kept / d, 3 * kept / ((double)d * d));
    }

    /// <summary>Draws <paramref name="count"/> d×d matrices of the given distribution, float64.</summary>
    public static Tensor Sample(int d, Lemma4Distribution dist, double? alpha, int count, Generator gen)
    {
        switch (dist)
        {
            case Lemma4Distribution.Uniform:
                double a = Math.Sqrt(3.0 / d);
                return rand([count, d, d], dtype: ScalarType.Float64, generator: gen).mul_(2 * a).sub_(a);
            case Lemma4Distribution.Normal1:
            case Lemma4Distribution.Normal3:
                double std = Math.Sqrt((dist == Lemma4Distribution.Normal1 ? 1.0 : 3.0) / d);
                return randn([count, d, d], dtype: ScalarType.Float64, generator: gen).mul_(std);
            default:
                long m = Zeroed(d, alpha ?? throw new InitPruneException("the pruned distribution needs alpha"));
                var w = randn([count, d * d], dtype: ScalarType.Float64, generator: gen).mul_(Math.Sqrt(1.0 / d));
                if (m > 0)
                {
                    using var idx = randint(0, (long)d * d, [count, m], dtype: ScalarType.Int64, generator: gen);
                    using var zero = zeros([count, m], dtype: ScalarType.Float64);
                    w.scatter_(1, idx, zero);
                }
                return w.view(count, d, d);
        }
    }

    public static Table3Row Row(int d, Lemma4Distribution dist, double? alpha, int trials, long seed)
    {
        if (d < 2) throw new InitPruneException($"matrix size d = {d} must be at least 2");
        if (trials < 2) throw new InitPruneException($"--trials {trials} is too few: need at least 2 matrices");
        if (dist == Lemma4Distribution.PrunedNormal1 && alpha is not (> 0 and < 2))
            throw new InitPruneException($"alpha = {alpha} must lie in (0, 2) for the pruned rows");
        using var gen = new Generator((ulong)Seeds.For(seed, $"table3/{d}/{dist}/{alpha}"));
        using var sum2 = zeros([d, d], dtype: ScalarType.Float64);
        using var sum4 = zeros([d, d], dtype: ScalarType.Float64);
        var norms = new List<double>(trials);
        for (int done = 0, chunk = SpectralNorms.Chunk(d, d, trials); done < trials; done += chunk)
        {
            using var scope = NewDisposeScope(); // frees every intermediate of this batch
            int b = Math.Min(chunk, trials - done);
            var a = Sample(d, dist, alpha, b, gen);
            var sq = a.square();
            sum2.add_(sq.sum(0L, false));
            sum4.add_(sq.square().sum(0L, false));
            norms.AddRange(SpectralNorms.Of(a.to(Compute.Device)));
        }
        using var m2 = sum2.div(trials);
        using var m4 = sum4.div(trials);
        var empirical = LatalaTerms.FromMoments(m2, m4);
        var (e2, e4) = Moments(d, dist, alpha);
        var exact = LatalaTerms.Homogeneous(d, e2, e4);
        double mean = norms.Average();
        double sd = Math.Sqrt(norms.Sum(v => (v - mean) * (v - mean)) / (trials - 1));
        return new(d, dist, dist == Lemma4Distribution.PrunedNormal1 ? alpha : null, trials, empirical, exact, mean, sd / Math.Sqrt(trials),
            mean / empirical.Sum, mean / exact.Sum);
    }
}
