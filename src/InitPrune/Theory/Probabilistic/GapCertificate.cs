using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>Activations of the gap study: all 1-Lipschitz with σ(0) = 0 (seed 003 assumption (i) with L_k = 1).</summary>
public enum GapActivation
{
    Relu,
    Tanh,
    Identity,
}

/// <summary>The input set of sup_x ‖f(x) − F(x)‖₂: the ball of radius r (Theorems 1, 2) or the unit cube [0, 1]^n (Theorem 3).</summary>
public enum GapInputSet
{
    Ball,
    Cube,
}

/// <summary>
/// A per-instance upper bound on sup_{x∈X} ‖f(x) − F(x)‖₂ from the layer recurrence with the actual operator norms (docs/theory.md,
/// "Pruned vs target"). With y_k, z_k the k-th layer outputs of F and f, e_k = ‖z_k − y_k‖ and Δ_k = W_k^f − W_k^F, 1-Lipschitz σ with
/// σ(0) = 0 gives e_k ≤ ‖W_k^f‖ e_{k−1} + ‖Δ_k‖ ‖y_{k−1}‖ with ‖y_{k−1}‖ ≤ Π_{j&lt;k} ‖W_j^F‖ r, hence
/// e_l ≤ Σ_k Π_{j&gt;k} ‖W_j^f‖ · ‖Δ_k‖ · Π_{j&lt;k} ‖W_j^F‖ · r (pruned-after); swapping the roles of f and F gives the other
/// (target-after) order; the certificate is the smaller.
/// </summary>
/// <param name="TargetNorms">‖W_k^F‖₂, k = 1..l.</param>
/// <param name="PrunedNorms">‖W_k^f‖₂.</param>
/// <param name="DifferenceNorms">‖W_k^f − W_k^F‖₂.</param>
/// <param name="Radius">sup_{x∈X} ‖x‖₂ (1 for the unit ball, √n for the unit cube [0, 1]^n).</param>
public sealed record GapCertificate(double[] TargetNorms, double[] PrunedNorms, double[] DifferenceNorms, double Radius, double PrunedAfter, double TargetAfter)
{
    /// <summary>The certificate: the smaller of the two orders.</summary>
    public double Bound => Math.Min(PrunedAfter, TargetAfter);

    public static GapCertificate From(double[] target, double[] pruned, double[] difference, double radius)
    {
        if (target.Length != pruned.Length || target.Length != difference.Length || target.Length == 0)
            throw new InitPruneException($"norm lists of lengths {target.Length}, {pruned.Length}, {difference.Length}: need one norm per layer for each");
        return new(target, pruned, difference, radius, Sum(pruned, difference, target, radius), Sum(target, difference, pruned, radius));
    }

    /// <summary>Σ_k Π_{j&gt;k} after_j · Δ_k · Π_{j&lt;k} before_j · r.</summary>
    static double Sum(double[] after, double[] delta, double[] before, double r)
    {
        double total = 0;
        for (int k = 0; k < delta.Length; k++)
        {
            if (delta[k] == 0) continue;
            double term = delta[k] * r;
            for (int j = k + 1; j < after.Length; j++) term *= after[j];
            for (int j = 0; j < k; j++) term *= before[j];
            total += term;
        }
        return total;
    }
}

/// <summary>
/// A target network F and a pruned copy f (biases none, seed 003 Eq. (1)/(10)): layers of dense matrices [out, in] and, for the CNN of
/// Theorem 3, circular stride-1 convolutions [d', d, q, q] on p×p maps (seed 003 Eqs. (7)–(9)) before a final dense layer.
/// Inputs are flat rows [n, d_0] (or [n, d_0 p²], channel-major). Owns its tensors.
/// </summary>
public sealed class GapPair : IDisposable
{
    readonly Tensor[] target, pruned;

    public GapPair(IReadOnlyList<Tensor> target, IReadOnlyList<Tensor> pruned, GapActivation activation = GapActivation.Relu, int spatial = 0)
    {
        if (target.Count == 0 || target.Count != pruned.Count) throw new InitPruneException($"{target.Count} target and {pruned.Count} pruned layers: need the same positive number");
        for (int k = 0; k < target.Count; k++)
        {
            if (!target[k].shape.SequenceEqual(pruned[k].shape)) throw new InitPruneException($"layer {k + 1}: target and pruned shapes differ");
            if (target[k].dim() == 4 && spatial < target[k].shape[3]) throw new InitPruneException($"layer {k + 1} is a convolution: give the map side p ≥ q");
            if (target[k].dim() is not (2 or 4)) throw new InitPruneException($"layer {k + 1} has {target[k].dim()} dimensions: need a matrix or a [d', d, q, q] kernel");
        }
        this.target = [.. target];
        this.pruned = [.. pruned];
        Activation = activation;
        Spatial = spatial;
    }

    public GapActivation Activation { get; }

    /// <summary>Side p of the feature maps of the convolutions (0 for an FCN).</summary>
    public int Spatial { get; }

    public int Depth => target.Length;

    public IReadOnlyList<Tensor> Target => target;

    public IReadOnlyList<Tensor> Pruned => pruned;

    /// <summary>Length of a flat input row.</summary>
    public long InputSize => target[0].dim() == 4 ? target[0].shape[1] * Spatial * Spatial : target[0].shape[1];

    /// <summary>f(x) − F(x) for each row of <paramref name="x"/>.</summary>
    public Tensor Difference(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Forward(pruned, x).sub(Forward(target, x)).MoveToOuterDisposeScope();
    }

    /// <summary>‖f(x) − F(x)‖₂ for each row.</summary>
    public Tensor GapNorms(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Difference(x).norm(1).MoveToOuterDisposeScope();
    }

    Tensor Forward(Tensor[] weights, Tensor x)
    {
        var h = x;
        for (int k = 0; k < weights.Length; k++)
        {
            var w = weights[k];
            if (w.dim() == 4)
            {
                int q = (int)w.shape[3];
                var maps = h.reshape(h.shape[0], w.shape[1], Spatial, Spatial);
                var padded = nn.functional.pad(maps, [0, q - 1, 0, q - 1], PaddingModes.Circular);
                h = nn.functional.conv2d(padded, w).flatten(1);
            }
            else h = h.matmul(w.t());
            if (k < weights.Length - 1)
                h = Activation switch
                {
                    GapActivation.Relu => nn.functional.relu(h),
                    GapActivation.Tanh => h.tanh(),
                    _ => h,
                };
        }
        return h;
    }

    /// <summary>The recurrence certificate over an input set whose points have norm at most <paramref name="radius"/>.</summary>
    public GapCertificate Certificate(double radius)
    {
        var t = target.Select(Norm).ToArray();
        var p = pruned.Select(Norm).ToArray();
        var d = target.Select((w, k) =>
        {
            using var diff = pruned[k].sub(w);
            return Norm(diff);
        }).ToArray();
        return GapCertificate.From(t, p, d, radius);
    }

    /// <summary>‖W‖₂: the matrix norm of a dense layer, Lemma 7's FFT formula for a circular convolution.</summary>
    double Norm(Tensor w)
    {
        if (w.dim() == 4) return CircularConvolution.SpectralNormFft(w, Spatial);
        using var _ = no_grad();
        return w.count_nonzero().item<long>() == 0 ? 0 : SpectralNorms.Of(w)[0];
    }

    public void Dispose()
    {
        foreach (var w in target.Concat(pruned)) w.Dispose();
    }
}

/// <summary>A lower estimate of sup_{x∈X} ‖f(x) − F(x)‖₂: the best sampled point, then projected gradient ascent from the best few.</summary>
/// <param name="Value">The largest ‖f(x) − F(x)‖₂ found at a feasible x (a lower bound on the supremum).</param>
/// <param name="Sampled">The largest before the ascent.</param>
/// <param name="Argmax">The x attaining <paramref name="Value"/>.</param>
public sealed record GapLowerEstimate(double Value, double Sampled, double[] Argmax);

/// <summary>Search settings: <paramref name="Samples"/> random feasible points, then <paramref name="Steps"/> projected ascent steps from the best <paramref name="Starts"/>.</summary>
public sealed record GapSearch(int Samples = 2048, int Starts = 8, int Steps = 100)
{
    /// <summary>
    /// Ball: half the samples uniform on the sphere of radius r (where a ReLU network's positively homogeneous gap peaks), half uniform
    /// in the ball; cube: half uniform in [0, 1]^n, half random vertices. The ascent takes normalized gradient steps of length η_t·(r or √n),
    /// η_t decaying linearly from 0.5 to 0.005, projecting back (rescale into the ball, clamp into the cube) after each step.
    /// </summary>
    public GapLowerEstimate Lower(GapPair pair, GapInputSet set, double radius, Generator gen)
    {
        if (Samples < 1 || Starts < 1 || Steps < 0) throw new InitPruneException($"search settings {Samples} samples, {Starts} starts, {Steps} steps: need samples, starts ≥ 1 and steps ≥ 0");
        using var scope = NewDisposeScope();
        long n = pair.InputSize;
        var x = Sample(set, radius, n, gen);
        Tensor gaps;
        using (no_grad()) gaps = pair.GapNorms(x);
        var (sampled, top) = gaps.topk(Math.Min(Starts, Samples));
        double sampledBest = sampled[0].item<double>();
        var bestX = x[top[0]].clone();
        double best = sampledBest;
        var cur = x.index_select(0, top).clone();
        double scale = set == GapInputSet.Ball ? radius : Math.Sqrt(n);
        for (int t = 0; t <= Steps; t++)
        {
            using var step = NewDisposeScope();
            var v = cur.detach().requires_grad_(true);
            var g = pair.GapNorms(v);
            var (m, i) = g.max(0);
            double value = m.item<double>();
            if (value > best)
            {
                best = value;
                bestX = v[i].detach().clone().MoveToOuterDisposeScope();
            }
            if (t == Steps) break;
            var grad = torch.autograd.grad([g.sum()], [v])[0];
            using var _ = no_grad();
            double eta = (0.5 + (0.005 - 0.5) * t / Math.Max(1, Steps - 1)) * scale;
            var dir = grad.div(grad.norm(1, keepdim: true).clamp_min(1e-300));
            cur = Project(v.detach().add(dir.mul(eta)), set, radius).MoveToOuterDisposeScope();
        }
        return new GapLowerEstimate(best, sampledBest, bestX.to_type(ScalarType.Float64).data<double>().ToArray());
    }

    Tensor Sample(GapInputSet set, double radius, long n, Generator gen) => set == GapInputSet.Ball ? BallSamples(radius, n, gen) : CubeSamples(n, gen);

    Tensor BallSamples(double radius, long n, Generator gen)
    {
        int half = Samples / 2;
        var dir = randn([Samples, n], dtype: ScalarType.Float64, generator: gen);
        dir = dir.div(dir.norm(1, keepdim: true));
        var r = rand([Samples, 1], dtype: ScalarType.Float64, generator: gen).pow(1.0 / n);
        r[TensorIndex.Slice(0, Samples - half)] = ones([Samples - half, 1], dtype: ScalarType.Float64);
        return dir.mul(r).mul(radius);
    }

    Tensor CubeSamples(long n, Generator gen)
    {
        int half = Samples / 2;
        var u = rand([Samples, n], dtype: ScalarType.Float64, generator: gen);
        var vertices = u[TensorIndex.Slice(0, half)].ge(0.5).to_type(ScalarType.Float64);
        return cat([vertices, u[TensorIndex.Slice(half, Samples)]], 0);
    }

    static Tensor Project(Tensor x, GapInputSet set, double radius) => set == GapInputSet.Ball
        ? x.div(x.norm(1, keepdim: true).div(radius).clamp_min(1))
        : x.clamp(0, 1);
}
