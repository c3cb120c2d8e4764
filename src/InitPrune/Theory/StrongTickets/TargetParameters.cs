using System.Globalization;
using InitPrune.Engine;
using InitPrune.IO;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>The weights W⁽ˡ⁾ ([n_l, n_{l−1}]) and biases b⁽ˡ⁾ of a target ReLU network, as plain arrays, in forward order.</summary>
public sealed record TargetParameters(IReadOnlyList<double[,]> Weights, IReadOnlyList<double[]> Biases)
{
    /// <summary>Reads an MLP saved with PyTorch names (<c>layers.0.weight</c>, <c>layers.0.bias</c>, …); a missing bias is 0.</summary>
    public static TargetParameters Load(string path) => FromTensors(Safetensors.Load(path), path);

    public static TargetParameters FromTensors(IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        var names = tensors.Where(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal) && kv.Value.dim() == 2)
            .Select(kv => kv.Key).OrderBy(LayerIndex).ThenBy(n => n, StringComparer.Ordinal).ToList();
        if (names.Count == 0)
            throw new InitPruneException($"{source} holds no 2-D '*.weight' tensor; save the target MLP with PyTorch names (layers.0.weight, ...)");
        var weights = new List<double[,]>();
        var biases = new List<double[]>();
        foreach (var name in names)
        {
            var matrix = Matrix(tensors[name]);
            int rows = matrix.GetLength(0);
            weights.Add(matrix);
            var biasName = name[..^"weight".Length] + "bias";
            biases.Add(tensors.TryGetValue(biasName, out var b) ? [.. b.detach().cpu().to(float64).data<double>()] : new double[rows]);
        }
        return new TargetParameters(weights, biases);
    }

    /// <summary>A 2-D tensor as a float64 array [rows, cols].</summary>
    public static double[,] Matrix(Tensor t)
    {
        using var w = t.detach().cpu().to(float64);
        var (rows, cols) = ((int)w.shape[0], (int)w.shape[1]);
        var values = w.data<double>().ToArray();
        var matrix = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) matrix[i, j] = values[i * cols + j];
        return matrix;
    }

    /// <summary>The number before ".weight" (layers.4.weight → 4), so layers sort numerically.</summary>
    static int LayerIndex(string name)
    {
        var parts = name.Split('.');
        return parts.Length >= 2 && int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : int.MaxValue;
    }
}
