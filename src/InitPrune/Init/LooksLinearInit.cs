using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>
/// Seed 004 §3.2 'looks-linear' (Burkholz &amp; Dubatovka 2019, Balduzzi et al. 2017): W = [[W₀, −W₀], [−W₀, W₀]],
/// b = [b₀; −b₀], W₀ orthogonal (<see cref="OrthogonalInit.Matrix"/>, gain 1). The first layer sees the plain input
/// (W = [W₀; −W₀]) and the last gives the plain output (W = [W₀, −W₀], b = b₀), so a ReLU network with zero biases
/// computes x ↦ W₀⁽ᴸ⁾⋯W₀⁽¹⁾x exactly. b₀ ~ N(0, σ_{b,l}²) with σ_{b,l} = Π_{k≤l} σ_{w,k}, σ_{w,k} = √(2/fan_in_k), the
/// marginal (He) scale of the entries (seed 004 §3.2). Convolutions hold the matrix at the kernel centre.
/// </summary>
public sealed class LooksLinearInit : ILayerInit
{
    double biasStd = 1;

    public (Tensor Weight, Tensor Bias) Draw(InitLayer layer, Generator gen)
    {
        bool splitRows = !layer.IsLast, splitCols = !layer.IsFirst;
        if ((splitRows && layer.Outputs % 2 != 0) || (splitCols && layer.Inputs % 2 != 0))
            throw new InitPruneException($"looks-linear needs even widths: layer {layer.Index} has {layer.Inputs} inputs and {layer.Outputs} outputs; use even hidden widths (channels)");
        long rows = splitRows ? layer.Outputs / 2 : layer.Outputs, cols = splitCols ? layer.Inputs / 2 : layer.Inputs;
        using var w0 = OrthogonalInit.Matrix(rows, cols, layer.DType, gen);
        using var signs = tensor(new double[,] { { 1, -1 }, { -1, 1 } }, dtype: layer.DType)[..(splitRows ? 2 : 1), ..(splitCols ? 2 : 1)];
        using var w = kron(signs, w0);
        // Seed 004 §3.1: σ_{b,l} = Π_{k≤l} σ_{w,k}.
        biasStd *= Math.Sqrt(2.0 / layer.FanIn);
        using var b0 = Sample.Normal([rows], biasStd, layer.DType, gen);
        return (OrthogonalInit.AtKernelCentre(w, layer), splitRows ? cat([b0, b0.neg()]) : b0.clone());
    }
}
