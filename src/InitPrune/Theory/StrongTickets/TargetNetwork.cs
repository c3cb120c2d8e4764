using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>
/// What seed 004's Lemma 4 and Theorem 5 need of one layer l of the target network f: width n_l, maximal in-degree
/// k_{l,max} (non-zero weights of a row plus 1 for a non-zero bias), number m_l of non-zero parameters, ‖W⁽ˡ⁾‖_∞ = max |w_ij|,
/// and bounds on sup_{x∈[−1,1]^{n₀}} ‖x⁽ˡ⁻¹⁾‖₁ (its input) and ‖x⁽ˡ⁾‖₁ (its output).
/// </summary>
public sealed record TargetLayer(int Width, int MaxInDegree, int NonZeroParameters, double MaxAbsWeight, double SupL1In, double SupL1Out);

/// <summary>A target ReLU network f: [−1, 1]^{n₀} → ℝ^{n_L} described layer by layer.</summary>
public sealed record TargetNetwork(int InputWidth, IReadOnlyList<TargetLayer> Layers)
{
    public int Depth => Layers.Count;

    /// <summary>
    /// Seed 004 §4's reading of a dense target with architecture n̄ = [n₀, …, n_L]: |w| ≤ <paramref name="maxAbsWeight"/>,
    /// non-zero biases (k_{l,max} = n_{l−1} + 1), neurons in [0, 1] (sup ‖x⁽ˡ⁾‖₁ = n_l) and sup ‖x⁽⁰⁾‖₁ = n₀.
    /// </summary>
    public static TargetNetwork Dense(IReadOnlyList<int> architecture, double maxAbsWeight = 1)
    {
        if (architecture.Count < 2 || architecture.Any(n => n <= 0))
            throw new InitPruneException($"architecture [{string.Join(", ", architecture)}] must list at least two positive widths n_0, ..., n_L");
        if (!(maxAbsWeight > 0) || !double.IsFinite(maxAbsWeight))
            throw new InitPruneException($"maximal weight {maxAbsWeight} must be finite and > 0");
        var layers = Enumerable.Range(1, architecture.Count - 1).Select(l =>
        {
            int k = architecture[l - 1] + 1;
            return new TargetLayer(architecture[l], k, architecture[l] * k, maxAbsWeight, architecture[l - 1], architecture[l]);
        });
        return new TargetNetwork(architecture[0], [.. layers]);
    }

    /// <summary>
    /// Reads the quantities off explicit parameters (W⁽ˡ⁾ as [n_l, n_{l−1}], b⁽ˡ⁾ as [n_l]); the sup-norms are bounded
    /// by interval arithmetic over [−1, 1]^{n₀}, an upper bound that only makes the tolerances of Lemma 4 smaller.
    /// </summary>
    public static TargetNetwork FromParameters(IReadOnlyList<double[,]> weights, IReadOnlyList<double[]> biases)
    {
        if (weights.Count == 0 || weights.Count != biases.Count)
            throw new InitPruneException($"{weights.Count} weight matrices and {biases.Count} bias vectors were given; give one of each per layer");
        int n0 = weights[0].GetLength(1);
        var lower = Enumerable.Repeat(-1.0, n0).ToArray();
        var upper = Enumerable.Repeat(1.0, n0).ToArray();
        double supIn = n0;
        var layers = new List<TargetLayer>();
        for (int l = 0; l < weights.Count; l++)
        {
            var (w, b) = (weights[l], biases[l]);
            int rows = w.GetLength(0), cols = w.GetLength(1);
            if (cols != upper.Length || b.Length != rows)
                throw new InitPruneException($"layer {l + 1}: weight [{rows},{cols}] and bias [{b.Length}] do not follow a layer of width {upper.Length}");
            var (lo, hi) = (new double[rows], new double[rows]);
            int k = 0, m = 0;
            double maxAbs = 0;
            for (int i = 0; i < rows; i++)
            {
                int degree = b[i] != 0 ? 1 : 0;
                (lo[i], hi[i]) = (b[i], b[i]);
                for (int j = 0; j < cols; j++)
                {
                    double v = w[i, j];
                    if (v != 0) degree++;
                    maxAbs = Math.Max(maxAbs, Math.Abs(v));
                    lo[i] += Math.Min(v * lower[j], v * upper[j]);
                    hi[i] += Math.Max(v * lower[j], v * upper[j]);
                }
                (lo[i], hi[i]) = (Math.Max(lo[i], 0), Math.Max(hi[i], 0));
                k = Math.Max(k, degree);
                m += degree;
            }
            double supOut = hi.Sum();
            layers.Add(new TargetLayer(rows, k, m, maxAbs, supIn, supOut));
            (lower, upper, supIn) = (lo, hi, supOut);
        }
        return new TargetNetwork(n0, layers);
    }

    /// <summary>n_{l−1} for layer l (1-based), n₀ for the first.</summary>
    public int InputWidthOf(int layer) => layer == 1 ? InputWidth : Layers[layer - 2].Width;
}
