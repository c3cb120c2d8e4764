using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>Pre-activation statistics after a layer: variance q^l and the correlation c^l of two inputs.</summary>
public sealed record LayerState(int Layer, double Q, double C);

/// <summary>The seeds' recursions for q^l and c^l over depth, and the gradient second moments behind Definition 1.</summary>
public static class Propagation
{
    /// <summary>
    /// Seed 001 Appendix B.1.1, FFNN: q^l = σb² + σw² E[φ(√q^{l−1} Z)²] and
    /// c^l = [σb² + σw² E[φ(√q^{l−1} Z1) φ(√q^{l−1} Z(c^{l−1}))]] / q^l, from two inputs with variance q0 and correlation c0.
    /// Entry 0 is the input state.
    /// </summary>
    public static LayerState[] FeedForward(MeanFieldMap map, double q0, double c0, int depth)
    {
        CheckMapDepth(depth);
        var states = new LayerState[depth + 1];
        states[0] = new LayerState(0, q0, c0);
        for (var l = 1; l <= depth; l++)
        {
            var (q, c) = (states[l - 1].Q, states[l - 1].C);
            var next = map.VarianceMap(q);
            states[l] = new LayerState(l, next, Math.Clamp(map.Covariance(q, q, c) / next, -1, 1));
        }
        return states;
    }

    /// <summary>
    /// Seed 001 Appendix B.1.1 (residual) and Prop 2: y^l = y^{l−1} + s F(W^l, y^{l−1}) with s = 1 (standard) or
    /// 1/√L (Stable ResNet, L = <paramref name="blocks"/>): q^l = q^{l−1} + s² (σb² + σw² E[φ(√q^{l−1} Z)²]) and
    /// the covariance likewise; for ReLU with σb = 0 this is q^l = (1 + σw²/2) q^{l−1}, resp. (1 + σw²/(2L)) q^{l−1}.
    /// </summary>
    public static LayerState[] ResNet(MeanFieldMap map, double q0, double c0, int blocks, bool stable)
    {
        CheckMapDepth(blocks);
        var s2 = stable ? 1.0 / blocks : 1.0;
        var states = new LayerState[blocks + 1];
        states[0] = new LayerState(0, q0, c0);
        for (var l = 1; l <= blocks; l++)
        {
            var (q, c) = (states[l - 1].Q, states[l - 1].C);
            var next = q + s2 * map.VarianceMap(q);
            var cov = q * c + s2 * map.Covariance(q, q, c);
            states[l] = new LayerState(l, next, Math.Clamp(cov / next, -1, 1));
        }
        return states;
    }

    /// <summary>Seed 001 Prop 2 proof, ReLU blocks without bias: q^l = (1 + σw²/2) q^{l−1}, or (1 + σw²/(2L)) q^{l−1} when stable.</summary>
    public static double ReluResNetVariance(double q0, double sigmaW, int layer, int blocks, bool stable)
    {
        CheckDepth(blocks);
        var step = stable ? sigmaW * sigmaW / (2.0 * blocks) : sigmaW * sigmaW / 2;
        return q0 * Math.Pow(1 + step, layer);
    }

    /// <summary>
    /// Seed 001 Appendix Lemma 1, 1-D CNN with periodic boundary: c^l_{α,α′} = (1/(2k+1)) Σ_{β=−k..k} f(c^{l−1}_{α+β,α′+β}),
    /// f the correlation map at the fixed point. Returns c^l for l = 0..depth.
    /// </summary>
    public static double[][,] Convolutional(Func<double, double> f, double[,] c0, int k, int depth)
    {
        CheckDepth(depth);
        if (k < 0) throw new InitPruneException($"the kernel half-width k must be ≥ 0, got {k}");
        int n = c0.GetLength(0), m = c0.GetLength(1);
        var result = new double[depth + 1][,];
        result[0] = (double[,])c0.Clone();
        for (var l = 1; l <= depth; l++)
        {
            var prev = result[l - 1];
            var fPrev = new double[n, m];
            for (var a = 0; a < n; a++)
                for (var b = 0; b < m; b++)
                    fPrev[a, b] = f(prev[a, b]);
            var next = new double[n, m];
            for (var a = 0; a < n; a++)
                for (var b = 0; b < m; b++)
                {
                    double sum = 0;
                    for (var beta = -k; beta <= k; beta++) sum += fPrev[Mod(a + beta, n), Mod(b + beta, m)];
                    next[a, b] = sum / (2 * k + 1);
                }
            result[l] = next;
        }
        return result;
    }

    /// <summary>Seed 001 Appendix B.1.1: the ReLU correlation function f(c) = (1/π)(c·arcsin c + √(1−c²)) + c/2.</summary>
    public static double ReluCorrelation(double c) => (c * Math.Asin(c) + Math.Sqrt(Math.Max(0, 1 - c * c))) / Math.PI + c / 2;

    /// <summary>
    /// Seed 001 Prop 3 proof: a pruned ResNet's correlation ĉ^l = ĉ^{l−1}/(1+λ) + λ f(ĉ^{l−1})/(1+λ), λ = α/2,
    /// α = E[N_{l−1} (W^l)² δ^l] (ReLU f unless given). Returns ĉ^l for l = 0..depth.
    /// </summary>
    public static double[] PrunedResNetCorrelation(double c0, double alpha, int depth, Func<double, double>? f = null)
    {
        CheckDepth(depth);
        if (!(alpha > 0) || !double.IsFinite(alpha)) throw new InitPruneException($"alpha must be a finite number > 0, got {alpha}");
        f ??= ReluCorrelation;
        var lambda = alpha / 2;
        var c = new double[depth + 1];
        c[0] = c0;
        for (var l = 1; l <= depth; l++) c[l] = Math.Min(1, (c[l - 1] + lambda * f(c[l - 1])) / (1 + lambda));
        return c;
    }

    /// <summary>
    /// Seed 001 Prop 3 proof: 1 − ĉ^l ~ 4/(η² l²) with η = λβ/(1+λ), β = 2√2/(3π) the coefficient of
    /// ReLU's f(x) = x + β(1−x)^{3/2} + O((1−x)^{5/2}).
    /// </summary>
    public static double PrunedResNetAsymptote(double alpha, int layer)
    {
        var lambda = alpha / 2;
        var eta = lambda * (2 * Math.Sqrt(2) / (3 * Math.PI)) / (1 + lambda);
        return 4 / (eta * eta * (double)layer * layer);
    }

    /// <summary>
    /// Seed 001 Appendix B.1.2: q̃^l = q̃^{l+1} (N_{l+1}/N_l) χ, backwards from q̃^L = <paramref name="qTildeLast"/>.
    /// <paramref name="widths"/> = N_1..N_L; entry l−1 of the result is q̃^l.
    /// </summary>
    public static double[] GradientSecondMoments(IReadOnlyList<int> widths, double chi, double qTildeLast = 1)
    {
        if (widths.Count == 0 || widths.Any(n => n <= 0)) throw new InitPruneException("widths must be a non-empty list of positive integers");
        var qt = new double[widths.Count];
        qt[^1] = qTildeLast;
        for (var l = widths.Count - 2; l >= 0; l--) qt[l] = qt[l + 1] * widths[l + 1] / widths[l] * chi;
        return qt;
    }

    /// <summary>
    /// Seed 001 Definition 1 with the Theorem 1 proof: m_l = E[(W^l)²] E[(∂L/∂W^l)²] = (σw²/N_{l−1}) q̃^l E[φ(√q* Z)²]
    /// at the fixed point, so m_l/m_L = (q̃^l/q̃^L)(N_{L−1}/N_{l−1}); <paramref name="widths"/> = N_0 (input) .. N_L.
    /// Entry l−1 is m_l/m_L (χ^{L−l} for constant widths).
    /// </summary>
    public static double[] ConditioningRatios(IReadOnlyList<int> widths, double chi)
    {
        if (widths.Count < 2) throw new InitPruneException("conditioning ratios need the input width and at least one layer width");
        var qt = GradientSecondMoments([.. widths.Skip(1)], chi);
        var layers = qt.Length;
        return [.. Enumerable.Range(0, layers).Select(i => qt[i] / qt[^1] * widths[layers - 1] / widths[i])];
    }

    static int Mod(int a, int n) => ((a % n) + n) % n;

    /// <summary>
    /// The deepest <see cref="FeedForward"/> and <see cref="ResNet"/> recursion computed (each layer takes Gaussian
    /// integrals): q^l and c^l reach their fixed points within a few hundred layers.
    /// </summary>
    public const int MaxMapDepth = 10_000;

    static void CheckDepth(int depth)
    {
        if (depth < 1) throw new InitPruneException($"depth must be ≥ 1, got {depth}");
    }

    static void CheckMapDepth(int depth)
    {
        if (depth is < 1 or > MaxMapDepth)
            throw new InitPruneException($"depth must be between 1 and {MaxMapDepth}, got {depth}; use a smaller --depth (q^l and c^l reach their fixed points within a few hundred layers)");
    }
}
