using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// A module whose weight (and bias) can carry a mask: every <see cref="MaskedLayer"/>, and BatchNorm
/// (<see cref="MaskedBatchNorm2d"/>) when its scale and shift are pruned too. A mask zeroes the pruned entries and
/// <see cref="MaskGradients"/> (the trainer calls it after every backward pass) zeroes their gradients, so they stay 0.
/// </summary>
public interface IMaskedModule
{
    /// <summary>The prunable weight (a BatchNorm's scale γ).</summary>
    Tensor Weight { get; }

    /// <summary>The bias (a BatchNorm's shift β), or null.</summary>
    Tensor? Bias { get; }

    /// <summary>Mask of the weight's shape (1 kept, 0 pruned, in the weight's dtype), or null when dense.</summary>
    Tensor? WeightMask { get; }

    /// <summary>Mask of the bias's shape, or null when the bias is dense.</summary>
    Tensor? BiasMask { get; }

    /// <summary>Per-entry factor of the weight's gradient instead of the mask (fixed rescaling), or null.</summary>
    Tensor? GradientScale => null;

    /// <summary>Number of inputs feeding one output unit (in_features, in_channels · kernel area; 1 for a BatchNorm scale).</summary>
    long FanIn => Weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);

    /// <summary>Sets (or with null clears) a mask and zeroes the pruned entries in place.</summary>
    void SetMask(Tensor? mask, bool forBias = false);

    /// <summary>Zeroes the gradients of pruned entries (in place).</summary>
    void MaskGradients();

    /// <summary>Zeroes the pruned entries again (after weights were overwritten, e.g. loaded from a file).</summary>
    void EnforceMask();
}

/// <summary>The mask operations <see cref="IMaskedModule"/>s share.</summary>
internal static class Masking
{
    /// <summary>The stored form of <paramref name="mask"/> for <paramref name="target"/> (0/1 in its dtype), after zeroing the pruned entries; null clears.</summary>
    public static Tensor? Install(Tensor target, Tensor? mask)
    {
        if (mask is null) return null;
        if (!mask.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"mask shape [{string.Join(",", mask.shape)}] does not match [{string.Join(",", target.shape)}]");
        using var _ = no_grad();
        using var kept = mask.ne(0);
        using var here = kept.to(target.device);
        using var pruned = here.logical_not();
        target.masked_fill_(pruned, 0.0);
        // Stored in the target's dtype (0/1) so that masking gradients is one in-place multiply.
        return here.to(target.dtype);
    }

    /// <summary>Multiplies the gradient of <paramref name="target"/> by <paramref name="scale"/> when both exist.</summary>
    public static void Gradient(Tensor? target, Tensor? scale)
    {
        if (scale is not null && target?.grad is { } g) g.mul_(scale);
    }

    /// <summary>Zeroes the entries of <paramref name="target"/> that <paramref name="mask"/> prunes.</summary>
    public static void Enforce(Tensor? target, Tensor? mask)
    {
        if (target is null || mask is null) return;
        using var _ = no_grad();
        using var pruned = mask.eq(0);
        target.masked_fill_(pruned, 0.0);
    }
}

/// <summary>
/// A layer with a prunable weight (and bias) that can carry a mask. Setting a mask zeroes the pruned entries;
/// <see cref="MaskGradients"/> (called by the trainer after every backward pass) zeroes their gradients, so no
/// optimizer step can move them: they stay exactly 0 and contribute nothing to the forward pass, which
/// therefore runs on the plain weight at dense cost.
/// </summary>
public abstract class MaskedLayer : nn.Module<Tensor, Tensor>, IMaskedModule
{
    protected MaskedLayer(string name, Tensor weight, Tensor? bias) : base(name)
    {
        this.weight = new Parameter(weight);
        register_parameter("weight", this.weight);
        if (bias is not null)
        {
            this.bias = new Parameter(bias);
            register_parameter("bias", this.bias);
        }
    }

#pragma warning disable IDE1006, CA1051 // PyTorch names; fields, because Module.to() reassigns them by reflection.
    public Parameter weight;
    public Parameter? bias;
#pragma warning restore IDE1006, CA1051

    Tensor IMaskedModule.Weight => weight;
    Tensor? IMaskedModule.Bias => bias;

    /// <summary>Mask of weight's shape (1 kept, 0 pruned, in the weight's dtype), or null when dense.</summary>
    public Tensor? WeightMask { get; private set; }

    /// <summary>Mask of bias's shape (1 kept, 0 pruned), or null when the bias is dense.</summary>
    public Tensor? BiasMask { get; private set; }

    /// <summary>
    /// Computes the weight and bias the forward pass uses in place of the parameters (edge-popup's W ⊙ m(s),
    /// <see cref="Tickets.EdgePopup"/>), or null: the parameters themselves.
    /// </summary>
    public Func<(Tensor Weight, Tensor? Bias)>? ForwardOverride { get; set; }

    /// <summary>Called with the input and output of every forward pass while set (<see cref="FlopCount"/> reads the shapes).</summary>
    public Action<Tensor, Tensor>? ForwardObserver { get; set; }

    /// <summary><paramref name="output"/>, after showing it to <see cref="ForwardObserver"/>.</summary>
    protected Tensor Observed(Tensor input, Tensor output)
    {
        ForwardObserver?.Invoke(input, output);
        return output;
    }

    /// <summary>The weight and bias of the forward pass: <see cref="ForwardOverride"/>'s, else the parameters.</summary>
    protected (Tensor Weight, Tensor? Bias) ForwardParameters() => ForwardOverride?.Invoke() ?? (weight, bias);

    /// <summary>Number of inputs feeding one output unit (in_features, or in_channels · kernel area).</summary>
    public long FanIn => weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);

    /// <summary>Sets (or with null clears) a mask and zeroes the pruned entries in place.</summary>
    public void SetMask(Tensor? mask, bool forBias = false)
    {
        var target = forBias ? bias ?? throw new InvalidOperationException($"{GetName()} has no bias") : weight;
        var old = forBias ? BiasMask : WeightMask;
        var m = Masking.Install(target, mask);
        if (forBias) BiasMask = m; else WeightMask = m;
        old?.Dispose();
    }

    /// <summary>
    /// Per-entry factor applied to the weight's gradient instead of the mask (0 where pruned), or null. Folding a
    /// fixed multiplier ρ into the weights and scaling their gradients by ρ² trains exactly as W_eff = ρ ⊙ W with W
    /// the parameter would under SGD with momentum and weight decay (seed 001 Algorithm 1, "fixed" rescaling).
    /// </summary>
    public Tensor? GradientScale { get; private set; }

    /// <summary>Sets (or with null clears) <see cref="GradientScale"/>; it must be 0 wherever the mask is 0.</summary>
    public void SetGradientScale(Tensor? scale)
    {
        var old = GradientScale;
        GradientScale = scale?.to(weight.dtype, weight.device).detach().clone();
        old?.Dispose();
    }

    /// <summary>Zeroes the gradients of pruned entries (in place), scaling the kept ones by <see cref="GradientScale"/> when set.</summary>
    public void MaskGradients()
    {
        Masking.Gradient(weight, GradientScale ?? WeightMask);
        Masking.Gradient(bias, BiasMask);
    }

    /// <summary>Zeroes the pruned entries again (after weights were overwritten, e.g. loaded from a file).</summary>
    public void EnforceMask()
    {
        Masking.Enforce(weight, WeightMask);
        Masking.Enforce(bias, BiasMask);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            WeightMask?.Dispose();
            BiasMask?.Dispose();
            GradientScale?.Dispose();
        }
        base.Dispose(disposing);
    }
}
