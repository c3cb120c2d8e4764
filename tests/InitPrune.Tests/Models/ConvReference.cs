using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Models;

/// <summary>Plain-loop references for the conv models' tests, independent of libtorch's kernels.</summary>
internal static class ConvReference
{
    /// <summary>Cross-correlation by the definition: out[n,o,i,j] = b[o] + Σ w[o,c,u,v]·x[n,c,i·s+u−p,j·s+v−p].</summary>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? b, long stride, long pad, bool circular)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3], o = w.shape[0], k = w.shape[2];
        long ho = (h + 2 * pad - k) / stride + 1, wo = (wd + 2 * pad - k) / stride + 1;
        var xs = x.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        var ws = w.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        var bs = b?.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        var y = new double[n * o * ho * wo];
        for (long ni = 0; ni < n; ni++)
            for (long oi = 0; oi < o; oi++)
                for (long i = 0; i < ho; i++)
                    for (long j = 0; j < wo; j++)
                    {
                        double sum = bs?[oi] ?? 0.0;
                        for (long ci = 0; ci < c; ci++)
                            for (long u = 0; u < k; u++)
                                for (long v = 0; v < k; v++)
                                {
                                    long r = i * stride + u - pad, q = j * stride + v - pad;
                                    if (circular) { r = (r % h + h) % h; q = (q % wd + wd) % wd; }
                                    else if (r < 0 || r >= h || q < 0 || q >= wd) continue;
                                    sum += ws[((oi * c + ci) * k + u) * k + v] * xs[((ni * c + ci) * h + r) * wd + q];
                                }
                        y[((ni * o + oi) * ho + i) * wo + j] = sum;
                    }
        return tensor(y, [n, o, ho, wo]).to(ScalarType.Float32);
    }

    /// <summary>Training-mode BatchNorm with γ = 1, β = 0: per-channel batch mean and biased variance, ε = 1e-5.</summary>
    public static Tensor BatchNorm(Tensor y)
    {
        var mean = y.mean([0, 2, 3], keepdim: true);
        var variance = (y - mean).pow(2).mean([0, 2, 3], keepdim: true);
        return (y - mean) / (variance + 1e-5).sqrt();
    }

    /// <summary>Fills every masked layer's weight with N(0, 1/fan_in) and bias with N(0, 0.01) from a fixed seed.</summary>
    public static void Randomize(nn.Module model, long seed = 0)
    {
        using var gen = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (_, layer) in Network.Layers(model))
        {
            layer.weight.copy_(randn(layer.weight.shape, generator: gen) / Math.Sqrt(layer.FanIn));
            layer.bias?.copy_(randn(layer.bias.shape, generator: gen) * 0.1);
        }
    }

    public static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());
}
