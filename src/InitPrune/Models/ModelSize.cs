using System.Globalization;

namespace InitPrune.Models;

public static partial class ModelRegistry
{
    /// <summary>
    /// The number of parameters (weights, biases, BatchNorm scales and shifts) the model of <paramref name="spec"/>
    /// would have, computed from its shapes without allocating it; 0 when the spec is invalid (building it then
    /// says why). A double, so that absurd widths give a huge number instead of an overflow.
    /// </summary>
    public static double ParameterCount(ModelSpec spec, long[] sampleShape, long outputs)
    {
        var name = spec.Name.ToLowerInvariant();
        if (!double.IsFinite(spec.WidthMultiplier) || spec.WidthMultiplier <= 0 || sampleShape.Length == 0 || (spec.Widths is null && spec.Depth < 0)) return 0;
        double bias(double n) => spec.Bias ? n : 0;
        double linear(double i, double o) => i * o + bias(o);
        double conv(double i, double o, double k, bool hasBias) => i * o * k * k + (hasBias ? o : 0);
        double[] scaled(IEnumerable<long> widths) => [.. widths.Select(w => Math.Round(w * spec.WidthMultiplier, MidpointRounding.AwayFromZero))];
        double total = 0;
        switch (name)
        {
            case "mlp" or "lenet300" or "lenet-300-100":
                {
                    double prev = sampleShape.Aggregate(1.0, (a, b) => a * b);
                    foreach (var w in scaled(spec.HiddenWidths))
                    {
                        total += linear(prev, w);
                        prev = w;
                    }
                    return total + linear(prev, outputs);
                }
            case "vcnn" when sampleShape.Length == 3:
                {
                    double prev = sampleShape[0];
                    foreach (var c in scaled(spec.HiddenWidths))
                    {
                        total += conv(prev, c, 3, spec.Bias);
                        prev = c;
                    }
                    return total + linear(prev, outputs);
                }
        }
        if (sampleShape.Length != 3) return 0;
        if (Resolve(name) is "conv2" or "conv4" or "conv6" or "conv8")
        {
            int blocks = ConvBlocks(Resolve(name)!);
            return sampleShape[1] >> blocks < 1 || sampleShape[2] >> blocks < 1 ? 0
                : ConvN.ParameterCount(blocks, sampleShape, outputs, w => scaled([w])[0], spec.Bias);
        }
        if (VggName().Match(name) is { Success: true } vgg)
        {
            int depth = int.Parse(vgg.Groups["depth"].Value, CultureInfo.InvariantCulture);
            if (depth is not (11 or 13 or 16 or 19)) return 0;
            int repeat = vgg.Groups["triple"].Success ? 3 : 1;
            bool bn = vgg.Groups["bn"].Success;
            double prev = sampleShape[0];
            foreach (var c in scaled(Vgg.Plan(depth).SelectMany(b => Enumerable.Repeat(b, repeat).SelectMany(x => x))))
            {
                total += conv(prev, c, 3, spec.Bias) + (bn ? 2 * c : 0);
                prev = c;
            }
            return total + linear(prev, outputs);
        }
        if (ResNetName().Match(name) is { Success: true } resnet)
        {
            int depth = int.Parse(resnet.Groups["depth"].Value, CultureInfo.InvariantCulture);
            if (depth < 8 || (depth - 2) % 6 != 0) return 0;
            int blocks = (depth - 2) / 6;
            double width = scaled([16])[0];
            total = conv(sampleShape[0], width, 3, false) + 2 * width;
            double current = width;
            for (int stage = 0; stage < 3; stage++)
            {
                double filters = width * (1L << stage);
                for (int i = 0; i < blocks; i++)
                {
                    bool downsample = stage > 0 && i == 0;
                    total += conv(current, filters, 3, false) + 2 * filters + conv(filters, filters, 3, false) + 2 * filters;
                    if ((downsample || current != filters) && spec.Shortcut == ShortcutKind.B) total += conv(current, filters, 1, false) + 2 * filters;
                    current = filters;
                }
            }
            return total + linear(current, outputs);
        }
        return 0;
    }
}
