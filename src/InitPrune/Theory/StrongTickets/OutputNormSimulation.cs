using System.Text.Json.Serialization;
using InitPrune.Engine;
using InitPrune.Models;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>Symmetric distributions with standard deviation σ: N(0, σ²) or U[−√3σ, √3σ].</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ParameterDistribution>))]
public enum ParameterDistribution { Normal, Uniform }

/// <summary>
/// A network for <see cref="OutputNormSimulation"/>: input x⁽⁰⁾, widths n_1 … n_L, per-layer standard deviations
/// σ_{w,l}, σ_{b,l}. With <paramref name="LooksLinear"/>, seed 004 §3.2: W⁽ˡ⁾ = [[W₀, −W₀], [−W₀, W₀]]
/// (W⁽¹⁾ = [W₀; −W₀]) with orthonormal-column W₀, b⁽ˡ⁾ = [b₀; −b₀], and SigmaW is not used.
/// </summary>
public sealed record OutputNormSetup(double[] Input, int[] Widths, double[] SigmaW, double[] SigmaB,
    ParameterDistribution Distribution = ParameterDistribution.Normal, bool LooksLinear = false)
{
    public double InputNormSq => Input.Sum(v => v * v);

    /// <summary>The Lemma 3 (or looks-linear) value of E‖f(x⁽⁰⁾)‖².</summary>
    public double Formula => LooksLinear
        ? OutputNorm.ExpectedLooksLinear(InputNormSq, Widths, SigmaB)
        : OutputNorm.Expected(InputNormSq, Widths, SigmaW, SigmaB);
}

/// <summary>The formula next to the Monte-Carlo mean of ‖f(x⁽⁰⁾)‖² over independent parameter draws.</summary>
public sealed record OutputNormEstimate(double Formula, double Mean, double StandardError, int Draws)
{
    public double ZScore => StandardError > 0 ? (Mean - Formula) / StandardError : Mean == Formula ? 0 : double.PositiveInfinity;
}

/// <summary>Checks seed 004 Lemma 3 through a real network: an <see cref="Mlp"/> with a ReLU on its output, redrawn per sample.</summary>
public static class OutputNormSimulation
{
    public static OutputNormEstimate Run(OutputNormSetup setup, int draws, long seed)
    {
        if (draws < 2)
            throw new InitPruneException($"draws {draws} must be at least 2 to estimate a standard error");
        double formula = setup.Formula;
        var widths = setup.Widths;
        if (setup.Input.Length == 0)
            throw new InitPruneException("the input x0 is empty; give at least one input value");
        if (setup.LooksLinear) ValidateLooksLinear(setup.Input.Length, widths);
        using var model = new Mlp(setup.Input.Length, [.. widths[..^1].Select(n => (long)n)], widths[^1]);
        model.to(float64);
        var layers = Network.Layers(model).Select(l => l.Layer).ToList();
        using var gen = new Generator((ulong)seed);
        using var x = tensor(setup.Input, float64).unsqueeze(0);
        var values = new double[draws];
        using var _ = no_grad();
        for (int d = 0; d < draws; d++)
        {
            using var scope = NewDisposeScope();
            for (int l = 0; l < layers.Count; l++)
            {
                var (w, b) = setup.LooksLinear ? LooksLinearLayer(layers[l], l == 0, setup.SigmaB[l], setup.Distribution, gen)
                    : (Draw(layers[l].weight.shape, setup.SigmaW[l], setup.Distribution, gen), Draw(layers[l].bias!.shape, setup.SigmaB[l], setup.Distribution, gen));
                layers[l].weight.copy_(w);
                layers[l].bias!.copy_(b);
            }
            values[d] = nn.functional.relu(model.forward(x)).square().sum().item<double>();
        }
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (draws - 1));
        return new OutputNormEstimate(formula, mean, sd / Math.Sqrt(draws), draws);
    }

    static Tensor Draw(long[] shape, double sigma, ParameterDistribution distribution, Generator gen) => distribution switch
    {
        ParameterDistribution.Normal => randn(shape, float64, generator: gen).mul_(sigma),
        _ => rand(shape, float64, generator: gen).mul_(2 * Math.Sqrt(3) * sigma).sub_(Math.Sqrt(3) * sigma),
    };

    // Seed 004 §3.2: W = [[W₀, −W₀], [−W₀, W₀]], b = [b₀; −b₀], W₀ with orthonormal columns (QR of a Gaussian).
    static (Tensor W, Tensor B) LooksLinearLayer(MaskedLayer layer, bool first, double sigmaB, ParameterDistribution distribution, Generator gen)
    {
        long rows = layer.weight.shape[0] / 2, cols = first ? layer.weight.shape[1] : layer.weight.shape[1] / 2;
        var w0 = Orthonormal(randn([rows, cols], float64, generator: gen));
        var top = first ? w0 : cat([w0, w0.neg()], 1);
        var b0 = Draw([rows], sigmaB, distribution, gen);
        return (cat([top, top.neg()], 0), cat([b0, b0.neg()], 0));
    }

    // Q of the thin QR of a Gaussian matrix, column signs fixed by diag(R) (Haar); MathNet's managed QR, because
    // libtorch's multi-threaded QR of such small matrices is ~100× slower on a busy machine.
    static Tensor Orthonormal(Tensor gaussian)
    {
        var (rows, cols) = ((int)gaussian.shape[0], (int)gaussian.shape[1]);
        var qr = Matrix<double>.Build.DenseOfRowMajor(rows, cols, gaussian.data<double>().ToArray()).QR(QRMethod.Thin);
        var q = qr.Q.Multiply(Matrix<double>.Build.DenseOfDiagonalVector(qr.R.Diagonal().PointwiseSign()));
        return tensor(q.ToRowMajorArray(), [rows, cols], float64);
    }

    static void ValidateLooksLinear(int inputs, int[] widths)
    {
        for (int l = 0; l < widths.Length; l++)
        {
            int previous = l == 0 ? 2 * inputs : widths[l - 1];
            if (widths[l] % 2 != 0 || widths[l] < previous)
                throw new InitPruneException($"looks-linear widths [{string.Join(", ", widths)}] must be even and non-decreasing with n_1 ≥ 2·n_0 = {2 * inputs}, so that W₀ can be an isometry");
        }
    }
}
