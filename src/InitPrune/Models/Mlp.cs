using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// Fully-connected network: Linear, activation, …, Linear, held in a Sequential named <c>layers</c> so that
/// parameter names match a PyTorch <c>nn.Sequential</c> (<c>layers.0.weight</c>, <c>layers.2.weight</c>, …).
/// Inputs of any shape are flattened after the batch dimension.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly Sequential layers;

    public Mlp(long inputSize, IReadOnlyList<long> hiddenWidths, long outputs, string activation = "relu", bool bias = true)
        : base("Mlp")
    {
        if (inputSize <= 0 || outputs <= 0 || hiddenWidths.Any(w => w <= 0))
            throw new Engine.InitPruneException($"impossible MLP shape: input {inputSize}, widths [{string.Join(",", hiddenWidths)}], outputs {outputs}; every size must be positive");
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long prev = inputSize;
        foreach (var w in hiddenWidths)
        {
            modules.Add(($"{modules.Count}", new MaskedLinear(prev, w, bias)));
            modules.Add(($"{modules.Count}", Activations.Create(activation)));
            prev = w;
        }
        modules.Add(($"{modules.Count}", new MaskedLinear(prev, outputs, bias)));
        layers = nn.Sequential(modules);
        InputSize = inputSize;
        Widths = [.. hiddenWidths];
        Activation = activation;
        RegisterComponents();
    }

    public long InputSize { get; }
    public long[] Widths { get; }
    public string Activation { get; }

    public override Tensor forward(Tensor input) => layers.forward(input.dim() > 2 ? input.flatten(1) : input);
}
