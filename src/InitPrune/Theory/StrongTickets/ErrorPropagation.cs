using System.Text.Json.Serialization;
using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>Seed 004 states Lemma 4 twice: in §4 (main text) and in Appendix B.3; Theorem 5 likewise (§4 and B.4).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TicketBoundVariant>))]
public enum TicketBoundVariant { MainText, Appendix }

/// <summary>
/// Seed 004 Lemma 4 (approximation propagation): if every parameter of layer l is within ε_l of the target's,
/// then ‖f − f_ε‖_∞ ≤ ε. Also evaluates that claim on a concrete network by shifting every non-zero parameter by +ε_l.
/// </summary>
public static class ErrorPropagation
{
    /// <summary>
    /// Seed 004 Lemma 4: ε_l = ε / (L √c_l (1 + s_l) Π_{k&gt;l} (‖W⁽ᵏ⁾‖_∞ + ε/L)), where the main text has c_l = n_l k_{l,max},
    /// s_l = sup ‖x⁽ˡ⁾‖₁ and Appendix B.3 has c_l = m_l, s_l = sup ‖x⁽ˡ⁻¹⁾‖₁. The paper's product reads ‖W⁽ˡ⁾‖_∞; the
    /// proof multiplies by the later layers' weights, so W⁽ᵏ⁾ is used.
    /// </summary>
    public static double[] Tolerances(TargetNetwork target, double epsilon, TicketBoundVariant variant)
    {
        if (!(epsilon > 0) || !double.IsFinite(epsilon))
            throw new InitPruneException($"epsilon {epsilon} must be finite and > 0");
        int depth = target.Depth;
        var result = new double[depth];
        for (int l = 0; l < depth; l++)
        {
            var layer = target.Layers[l];
            double count = variant == TicketBoundVariant.MainText ? (double)layer.Width * layer.MaxInDegree : layer.NonZeroParameters;
            double sup = variant == TicketBoundVariant.MainText ? layer.SupL1Out : layer.SupL1In;
            double growth = target.Layers.Skip(l + 1).Aggregate(1.0, (p, k) => p * (k.MaxAbsWeight + epsilon / depth));
            result[l] = epsilon / (depth * Math.Sqrt(Math.Max(count, 1)) * (1 + sup) * growth);
        }
        return result;
    }

    /// <summary>
    /// max over <paramref name="inputs"/> of ‖f(x) − f_ε(x)‖₂ where f_ε adds +ε_l to every non-zero weight and bias
    /// of layer l (a shift Lemma 4 allows). Lemma 4 claims this is ≤ ε.
    /// </summary>
    public static double ShiftedError(IReadOnlyList<double[,]> weights, IReadOnlyList<double[]> biases, IReadOnlyList<double> tolerances, IEnumerable<double[]> inputs)
    {
        if (tolerances.Count != weights.Count)
            throw new InitPruneException($"{tolerances.Count} tolerances were given for {weights.Count} layers; give one per layer");
        var shiftedW = weights.Select((w, l) => Shift(w, tolerances[l])).ToList();
        var shiftedB = biases.Select((b, l) => b.Select(v => v != 0 ? v + tolerances[l] : 0).ToArray()).ToList();
        double worst = 0;
        foreach (var x in inputs)
        {
            var (y, yShifted) = (Forward(weights, biases, x), Forward(shiftedW, shiftedB, x));
            worst = Math.Max(worst, Math.Sqrt(y.Zip(yShifted, (a, b) => (a - b) * (a - b)).Sum()));
        }
        return worst;
    }

    /// <summary>The corners of [−1, 1]^{n₀} (when n₀ ≤ 10) and <paramref name="samples"/> uniform points: inputs for <see cref="ShiftedError"/>.</summary>
    public static IEnumerable<double[]> Probe(int inputWidth, int samples, long seed)
    {
        if (inputWidth <= 10)
            for (int mask = 0; mask < 1 << inputWidth; mask++)
                yield return [.. Enumerable.Range(0, inputWidth).Select(j => (mask >> j & 1) == 1 ? 1.0 : -1.0)];
        var random = new Random((int)(Seeds.For(seed, "lemma4-probe") & int.MaxValue));
        for (int s = 0; s < samples; s++)
            yield return [.. Enumerable.Range(0, inputWidth).Select(_ => 2 * random.NextDouble() - 1)];
    }

    /// <summary>The ReLU network of seed 004 §1.2: x⁽ˡ⁾ = φ(W⁽ˡ⁾x⁽ˡ⁻¹⁾ + b⁽ˡ⁾) on every layer.</summary>
    public static double[] Forward(IReadOnlyList<double[,]> weights, IReadOnlyList<double[]> biases, double[] x)
    {
        for (int l = 0; l < weights.Count; l++)
        {
            var (w, b, prev) = (weights[l], biases[l], x);
            x = [.. Enumerable.Range(0, w.GetLength(0)).Select(i => Math.Max(0, b[i] + Enumerable.Range(0, prev.Length).Sum(j => w[i, j] * prev[j])))];
        }
        return x;
    }

    static double[,] Shift(double[,] w, double by)
    {
        var result = (double[,])w.Clone();
        for (int i = 0; i < w.GetLength(0); i++)
            for (int j = 0; j < w.GetLength(1); j++)
                if (w[i, j] != 0) result[i, j] += by;
        return result;
    }
}
