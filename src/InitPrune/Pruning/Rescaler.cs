using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>Eoc: seed 001 Prop. 1 per output unit. Random / Magnitude: seed 002 Theorems 5 / 6, one factor per layer.</summary>
public enum RescaleMethod { Eoc, Random, Magnitude }

/// <summary>
/// What the EOC trick restores each output unit's kept squared norm to. Dense (default): the unit's own squared
/// norm before pruning, an unbiased estimate of σ_w² as the proof of Prop. 1 intends, and ρ = 1 when nothing was
/// pruned. Unit: 1, Algorithm 1 as written (equal to Dense's expectation only when σ_w = 1). SigmaW2: σ_w².
/// </summary>
public enum RescaleTarget { Dense, Unit, SigmaW2 }

/// <summary>
/// How kept weights are rescaled after pruning. ρ is folded into the weights; with <paramref name="Fixed"/> the
/// layers also scale their gradients by ρ², which trains exactly like keeping ρ as a fixed multiplier in front of
/// unscaled parameters (the other reading of seed 001 Algorithm 1). Default: folded, because the EOC argument
/// concerns the network at initialization and folded weights are plain weights any trainer or PyTorch can use.
/// </summary>
public sealed record RescaleSpec(RescaleMethod Method = RescaleMethod.Eoc, RescaleTarget Target = RescaleTarget.Dense, double? SigmaW = null, bool Fixed = false)
{
    /// <summary>The names <see cref="Parse"/> takes.</summary>
    public static readonly IReadOnlyList<string> Names = ["none", "eoc", "eoc-fixed", "eoc-unit", "eoc-sigma-w", "random", "magnitude"];

    /// <summary>The name that parses to this rescaling (with its σ_w), else a description of it.</summary>
    public string Name => Names.Skip(1).FirstOrDefault(n => Parse(n, SigmaW) == this) ?? ToString();

    public static RescaleSpec? Parse(string text, double? sigmaW = null) => text.ToLowerInvariant() switch
    {
        "none" => null,
        "eoc" => new(),
        "eoc-fixed" => new(Fixed: true),
        "eoc-unit" => new(RescaleMethod.Eoc, RescaleTarget.Unit),
        "eoc-sigma-w" => new(RescaleMethod.Eoc, RescaleTarget.SigmaW2, sigmaW),
        "random" => new(RescaleMethod.Random),
        "magnitude" => new(RescaleMethod.Magnitude),
        _ => throw new InitPruneException($"unknown rescaling '{text}': use none, eoc, eoc-fixed, eoc-unit, eoc-sigma-w, random or magnitude"),
    };

    /// <summary>Refuses a rescaling that cannot be computed (σw² target without σw > 0).</summary>
    public void Check()
    {
        if (Target == RescaleTarget.SigmaW2 && !(SigmaW is > 0))
            throw new InitPruneException("rescaling to sigma_w² (eoc-sigma-w) needs an initialization drawn with one sigma_w > 0 (normal, eoc, orthogonal, kaiming, slt-*, correlated): use one of them or another rescaling");
    }
}

/// <summary>Multiplies the kept weights by ρ after the mask was applied.</summary>
public static class Rescaler
{
    /// <summary>
    /// Rescales every pruned weight tensor in place and returns ρ (weight-shaped). <paramref name="dense"/> holds
    /// the weights before pruning (needed by <see cref="RescaleTarget.Dense"/>). Biases are never rescaled.
    /// </summary>
    public static TensorDict Apply(IReadOnlyList<PrunableTensor> targets, IReadOnlyDictionary<string, Tensor> dense, RescaleSpec spec)
    {
        spec.Check();
        using var _ = no_grad();
        using var factors = new TensorDict();
        foreach (var t in targets.Where(t => !t.IsBias))
        {
            var w = t.Value;
            factors.Add(t.Name, spec.Method == RescaleMethod.Eoc ? UnitFactors(w, dense[t.Name], spec) : full_like(w, LayerFactor(w, spec.Method)));
            w.mul_(factors[t.Name]);
            if (spec.Fixed) UseFixedMultiplier(t, factors[t.Name]);
        }
        return factors.TakeAll();
    }

    /// <summary>Makes training behave as if ρ were a fixed multiplier: gradients scaled by ρ² on kept entries, 0 on pruned ones.</summary>
    public static void UseFixedMultiplier(PrunableTensor target, Tensor rho)
    {
        using var square = rho.square();
        using var scale = target.Mask is { } m ? square * m : square.alias();
        if (target.Layer is not MaskedLayer layer)
            throw new InitPruneException($"'{target.Name}' is a BatchNorm tensor: fixed rescaling applies to weight matrices only");
        layer.SetGradientScale(scale);
    }

    /// <summary>
    /// Seed 001 Prop. 1 / Algorithm 1: α_i = Σ_j (W_ij δ_ij)², ρ_i = (target/α_i)^{1/2}, per output unit: weight[o]
    /// for linear layers, weight[o, :, i, j] (each output channel and kernel offset) for convolutions. ρ = 1 for a
    /// fully pruned unit.
    /// </summary>
    static Tensor UnitFactors(Tensor kept, Tensor before, RescaleSpec spec)
    {
        using var scope = NewDisposeScope();
        var alpha = kept.square().sum(1, keepdim: true);
        var target = spec.Target switch
        {
            RescaleTarget.Dense => before.square().sum(1, keepdim: true),
            RescaleTarget.Unit => ones_like(alpha),
            _ => full_like(alpha, spec.SigmaW!.Value * spec.SigmaW.Value),
        };
        var rho = where(alpha.gt(0), (target / alpha).sqrt_(), ones_like(alpha));
        return rho.expand_as(kept).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Seed 002: random pruning (1 − s)^{−1/2} (Theorem 5), magnitude pruning t from Eq. (5) with m entries, r kept (Theorem 6).</summary>
    static double LayerFactor(Tensor kept, RescaleMethod method)
    {
        long m = kept.numel(), r = Mask.CountNonzero(kept);
        if (r == 0) return 1;
        return method == RescaleMethod.Random
            ? RescalingFactors.Random(1 - (double)r / m)
            : Math.Sqrt(m / RescalingFactors.TopSumExact(m, r));
    }
}
