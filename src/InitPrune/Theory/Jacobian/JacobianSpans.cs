using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Theory.Jacobian;

/// <summary>
/// A zoo model's forward pass cut in three at its first and last activation (seed 002 Eq. (1)):
/// Y_0 = <see cref="Stem"/>(x) is the pre-activation entering the first activation, Y_L = <see cref="Body"/>(Y_0) the
/// pre-activation entering the last one, and <see cref="Head"/>(Y_L) the network output, so that
/// Head(Body(Stem(x))) = model(x). <see cref="Depth"/> is L: the weight layers (ResNet: residual blocks) inside Body.
/// </summary>
public sealed record SpanParts(Func<Tensor, Tensor> Stem, Func<Tensor, Tensor> Body, Func<Tensor, Tensor> Head, int Depth);

/// <summary>Where the hidden span J_1 = ∂Y_L/∂Y_0 of each zoo model starts and ends (docs/theory.md, "Jacobian norm").</summary>
public static class JacobianSpans
{
    sealed record Step(Func<Tensor, Tensor> Apply, bool IsActivation, bool IsLayer);

    static readonly HashSet<Type> ActivationTypes = [.. Activations.Names.Select(n =>
    {
        using var m = Activations.Create(n);
        return m.GetType();
    })];

    /// <summary>
    /// The three parts of <paramref name="model"/>, or null when it has no hidden span: an architecture this
    /// does not know, or fewer than two activations (an MLP of depth 1 has Y_L = Y_0).
    /// </summary>
    public static SpanParts? Split(nn.Module<Tensor, Tensor> model)
    {
        var steps = Steps(model);
        if (steps is null) return null;
        int first = steps.FindIndex(s => s.IsActivation), last = steps.FindLastIndex(s => s.IsActivation);
        if (first < 0 || last <= first) return null;
        var stem = steps[..first];
        var body = steps[first..last];
        var head = steps[last..];
        return new SpanParts(x => Run(stem, x), y => Run(body, y), y => Run(head, y), body.Count(s => s.IsLayer));
    }

    /// <summary><see cref="Split"/>, or a one-line error naming the model.</summary>
    public static SpanParts Require(nn.Module<Tensor, Tensor> model) => Split(model)
        ?? throw new InitPruneException($"model '{model.GetName()}' has no hidden span (it needs two activations, between a first and a last weight layer, in a known architecture): use --span full");

    static Tensor Run(List<Step> steps, Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x.alias();
        foreach (var s in steps) h = s.Apply(h);
        return h.MoveToOuterDisposeScope();
    }

    // The forward pass of each zoo family as a flat list of steps; a test checks Head(Body(Stem(x))) = model(x) for each.
    static List<Step>? Steps(nn.Module<Tensor, Tensor> model) => model switch
    {
        Mlp => [new(x => x.dim() > 2 ? x.flatten(1) : x.alias(), false, false), .. Children(Child(model, "layers"))],
        PooledConvNet => [.. Children(Child(model, "layers")), new(x => x.mean([2, 3]), false, false), .. Children(Child(model, "fc"))],
        ConvN => [.. Children(Child(model, "layers")), new(x => x.flatten(1), false, false), .. Children(Child(model, "classifier"))],
        ResNet => ResNetSteps(model),
        _ => null,
    };

    static List<Step> ResNetSteps(nn.Module<Tensor, Tensor> model)
    {
        var steps = new List<Step> { Of(Child(model, "conv")), Of(Child(model, "bn")), Of(Child(model, "act")) };
        var blocks = Child(model, "blocks").named_children().Select(c => (BasicBlock)c.module).ToList();
        steps.AddRange(blocks.SkipLast(1).Select(b => new Step(b.forward, false, true)));
        var lastBlock = blocks[^1];
        // The last block's output before its final activation: shortcut(x) + scale · F(x) (seed 001 Eq. (9)).
        steps.Add(new Step(x => PreActivation(lastBlock, x), false, true));
        steps.Add(Of(Child(lastBlock, "act")));
        steps.Add(new Step(x => x.mean([2, 3]), false, false));
        steps.Add(Of(Child(model, "fc")));
        return steps;
    }

    static Tensor PreActivation(BasicBlock block, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var scale = block.BranchScale.ToScalar();
        var branch = block.Branch(x);
        if (block.BranchScale != 1.0) branch = branch.mul(scale);
        return block.Shortcut(x).add(branch, Scalars.One).MoveToOuterDisposeScope();
    }

    static nn.Module Child(nn.Module m, string name) => m.named_children().Single(c => c.name == name).module;

    static IEnumerable<Step> Children(nn.Module m) => m is Sequential
        ? m.named_children().SelectMany(c => c.module is ConvModule cm ? Children(cm) : [Of(c.module)])
        : m is ConvModule ? m.named_children().Select(c => Of(c.module)) : [Of(m)];

    static Step Of(nn.Module m)
    {
        var f = (nn.Module<Tensor, Tensor>)m;
        return new Step(f.forward, ActivationTypes.Contains(m.GetType()), m is MaskedLayer);
    }
}
