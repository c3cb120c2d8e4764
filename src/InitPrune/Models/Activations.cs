using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>Activation modules by the names users type.</summary>
public static class Activations
{
    static readonly Dictionary<string, Func<nn.Module<Tensor, Tensor>>> Registry = new()
    {
        ["relu"] = () => nn.ReLU(),
        ["tanh"] = () => nn.Tanh(),
        ["elu"] = () => nn.ELU(),
        ["leaky_relu"] = () => nn.LeakyReLU(0.01),
        ["selu"] = () => nn.SELU(),
        ["gelu"] = () => nn.GELU(),
        ["softplus"] = () => nn.Softplus(),
        ["sigmoid"] = () => nn.Sigmoid(),
        ["linear"] = () => nn.Identity(),
    };

    public static IReadOnlyCollection<string> Names => Registry.Keys;

    public static nn.Module<Tensor, Tensor> Create(string name) =>
        Registry.TryGetValue(name.ToLowerInvariant(), out var make)
            ? make()
            : throw new Engine.InitPruneException($"unknown activation '{name}': use one of {string.Join(", ", Registry.Keys)}");
}
