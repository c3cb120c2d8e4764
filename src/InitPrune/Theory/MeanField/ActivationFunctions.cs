using System.Collections.Concurrent;
using InitPrune.Engine;
using MathNet.Numerics;

namespace InitPrune.Theory;

/// <summary>
/// Scalar activations by the names of the network registry (<see cref="Models.Activations"/>), with the same
/// parameters (elu α = 1, leaky_relu slope 0.01, torch's selu constants, exact gelu); users may add their own.
/// (exp(x) − 1 is computed as double.ExpM1: MathNet's Expm1 is only accurate to ~1e-9 near 0.)
/// </summary>
public static class ActivationFunctions
{
    const double SeluLambda = 1.0507009873554804934193349852946;
    const double SeluAlpha = 1.6732632423543772848170429916717;

    static readonly ConcurrentDictionary<string, ActivationFunction> Registry = new(
        new ActivationFunction[]
        {
            new("relu", x => x > 0 ? x : 0, x => x > 0 ? 1 : 0, [0]),
            new("tanh", Math.Tanh, x => 1 - Math.Tanh(x) * Math.Tanh(x), []),
            new("elu", x => x > 0 ? x : double.ExpM1(x), x => x > 0 ? 1 : Math.Exp(x), [0]),
            new("leaky_relu", x => x > 0 ? x : 0.01 * x, x => x > 0 ? 1 : 0.01, [0]),
            new("selu", x => SeluLambda * (x > 0 ? x : SeluAlpha * double.ExpM1(x)), x => SeluLambda * (x > 0 ? 1 : SeluAlpha * Math.Exp(x)), [0]),
            new("gelu", x => x * NormalCdf(x), x => NormalCdf(x) + x * Math.Exp(-0.5 * x * x) / Constants.Sqrt2Pi, []),
            new("softplus", x => Math.Max(x, 0) + double.LogP1(Math.Exp(-Math.Abs(x))), Sigmoid, []),
            new("sigmoid", Sigmoid, x => Sigmoid(x) * (1 - Sigmoid(x)), []),
            new("hard_tanh", x => Math.Clamp(x, -1, 1), x => Math.Abs(x) < 1 ? 1 : 0, [-1, 1]),
            new("linear", x => x, _ => 1, []),
        }.ToDictionary(a => a.Name));

    public static IReadOnlyCollection<string> Names => [.. Registry.Keys.Order()];

    public static ActivationFunction Get(string name) =>
        Registry.TryGetValue(name.ToLowerInvariant(), out var a)
            ? a
            : throw new InitPruneException($"unknown activation '{name}': use one of {string.Join(", ", Names)}");

    /// <summary>Adds (or replaces) an activation from φ and φ′; <paramref name="kinks"/> are where either is not smooth.</summary>
    public static ActivationFunction Register(string name, Func<double, double> phi, Func<double, double> dPhi, params double[] kinks)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new InitPruneException("an activation needs a non-empty name");
        var a = new ActivationFunction(name.ToLowerInvariant(), phi, dPhi, [.. kinks.Order()]);
        Registry[a.Name] = a;
        return a;
    }

    static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    static double NormalCdf(double x) => 0.5 * SpecialFunctions.Erfc(-x / Constants.Sqrt2);
}
