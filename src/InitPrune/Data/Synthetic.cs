using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Data;

/// <summary>
/// Seeded toy tasks (seed 004, §6). Samples are drawn in order from <see cref="Random"/>(seed), so the same seed
/// gives bit-identical tensors; the first 80% are the train set, the rest the test set. Inputs lie in [-1, 1].
/// </summary>
public static class Synthetic
{
    public const int DefaultCount = 10000;
    public const double FlipProbability = 0.01;
    public const double NoiseStd = 0.01;

    /// <summary>Class thresholds on <see cref="EllipseScore"/>: class 0 below 0.2, 1 below 0.5, 2 below 0.7, else 3.</summary>
    public static IReadOnlyList<double> EllipseThresholds { get; } = [0.2, 0.5, 0.7];

    public static double EllipseScore(double x1, double x2) => 0.5 * (x1 - 0.3) * (x1 - 0.3) + 1.2 * (x2 + 0.5) * (x2 + 0.5);

    /// <summary>The noiseless ellipse class of a point.</summary>
    public static int EllipseClass(double x1, double x2)
    {
        var s = EllipseScore(x1, x2);
        return EllipseThresholds.Count(t => s >= t);
    }

    /// <summary>
    /// 4-class ellipse: x1, x2 ~ U[-1, 1], class from <see cref="EllipseClass"/>, then each label moved with
    /// probability 0.01 to a neighbouring class (0→1, 3→2, 1 and 2 up or down with equal probability).
    /// </summary>
    public static DatasetSplit Ellipse(int seed, int n = DefaultCount)
    {
        CheckCount(n);
        var rng = new Random(seed);
        var x = new float[2 * n];
        var y = new long[n];
        for (var i = 0; i < n; i++)
        {
            var x1 = Uniform(rng);
            var x2 = Uniform(rng);
            var (flip, up) = (rng.NextDouble() < FlipProbability, rng.NextDouble() < 0.5);
            var c = EllipseClass(x1, x2);
            if (flip)
                c = c == 0 ? 1 : c == 3 ? 2 : up ? c + 1 : c - 1;
            (x[2 * i], x[2 * i + 1], y[i]) = (x1, x2, c);
        }
        return Split("ellipse", seed, x, [n, 2], tensor(y, [n], device: Compute.Device), TaskKind.Classification, 4);
    }

    /// <summary>Shifted-ReLU regression: x ~ U[-1, 1] ([N, 1]), y = relu(x + 0.5) + N(0, 0.01²) ([N, 1]).</summary>
    public static DatasetSplit ShiftedRelu(int seed, int n = DefaultCount)
    {
        CheckCount(n);
        var rng = new Random(seed);
        var x = new float[n];
        var y = new float[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = Uniform(rng);
            var (u1, u2) = (rng.NextDouble(), rng.NextDouble());
            var noise = Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2);
            y[i] = (float)(Math.Max(0, x[i] + 0.5) + NoiseStd * noise);
        }
        return Split("shifted-relu", seed, x, [n, 1], tensor(y, [n, 1], device: Compute.Device), TaskKind.Regression, 0);
    }

    static float Uniform(Random rng) => (float)(2 * rng.NextDouble() - 1);

    static void CheckCount(int n)
    {
        if (n < 5)
            throw new InitPruneException($"synthetic datasets need at least 5 samples, got {n}: ask for more samples");
    }

    static DatasetSplit Split(string name, int seed, float[] x, long[] shape, Tensor y, TaskKind kind, int numClasses)
    {
        using var inputs = tensor(x, shape, device: Compute.Device);
        using (y)
        {
            var nTrain = shape[0] * 8 / 10;
            var nTest = shape[0] - nTrain;
            var train = new Dataset(name, inputs.narrow(0, 0, nTrain), y.narrow(0, 0, nTrain), kind, numClasses);
            var test = new Dataset(name, inputs.narrow(0, nTrain, nTest), y.narrow(0, nTrain, nTest), kind, numClasses);
            return new DatasetSplit(train, test, $"synthetic (seed {seed})");
        }
    }
}
