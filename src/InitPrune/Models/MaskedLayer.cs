using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// A layer with a prunable weight (and bias) that can carry a mask. Setting a mask zeroes the pruned entries;
/// <see cref="MaskGradients"/> (called by the trainer after every backward pass) zeroes their gradients, so no
/// optimizer step can move them: they stay exactly 0 and contribute nothing to the forward pass, which
/// therefore runs on the plain weight at dense cost.
/// </summary>
public abstract class MaskedLayer : nn.Module<Tensor, Tensor>
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

    /// <summary>Mask of weight's shape (1 kept, 0 pruned, in the weight's dtype), or null when dense.</summary>
    public Tensor? WeightMask { get; private set; }

    /// <summary>Mask of bias's shape (1 kept, 0 pruned), or null when the bias is dense.</summary>
    public Tensor? BiasMask { get; private set; }

    /// <summary>
    /// Computes the weight and bias the forward pass uses in place of the parameters (edge-popup's W ⊙ m(s),
    /// <see cref="Tickets.EdgePopup"/>), or null: the parameters themselves.
    /// </summary>
    public Func<(Tensor Weight, Tensor? Bias)>? ForwardOverride { get; set; }

    /// <summary>The weight and bias of the forward pass: <see cref="ForwardOverride"/>'s, else the parameters.</summary>
    protected (Tensor Weight, Tensor? Bias) ForwardParameters() => ForwardOverride?.Invoke() ?? (weight, bias);

    /// <summary>Number of inputs feeding one output unit (in_features, or in_channels · kernel area).</summary>
    public long FanIn => weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);

    /// <summary>Sets (or with null clears) a mask and zeroes the pruned entries in place.</summary>
    public void SetMask(Tensor? mask, bool forBias = false)
    {
        var target = forBias ? bias ?? throw new InvalidOperationException($"{GetName()} has no bias") : weight;
        var old = forBias ? BiasMask : WeightMask;
        Tensor? m = null;
        if (mask is not null)
        {
            if (!mask.shape.SequenceEqual(target.shape))
                throw new ArgumentException($"mask shape [{string.Join(",", mask.shape)}] does not match [{string.Join(",", target.shape)}]");
            // Stored in the weight's dtype (0/1) so that masking gradients is one in-place multiply.
            m = mask.to(target.dtype, target.device).ne(0).to(target.dtype).detach();
            using var _ = no_grad();
            using var pruned = m.eq(0);
            target.masked_fill_(pruned, 0.0);
        }
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
        if ((GradientScale ?? WeightMask) is { } scale && weight.grad is { } gw) gw.mul_(scale);
        if (BiasMask is not null && bias?.grad is { } gb) gb.mul_(BiasMask);
    }

    /// <summary>Zeroes the pruned entries again (after weights were overwritten, e.g. loaded from a file).</summary>
    public void EnforceMask()
    {
        using var _ = no_grad();
        if (WeightMask is not null) using (var pruned = WeightMask.eq(0)) weight.masked_fill_(pruned, 0.0);
        if (BiasMask is not null) using (var pruned = BiasMask.eq(0)) bias!.masked_fill_(pruned, 0.0);
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
