using System.Text.RegularExpressions;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>
/// The diagonals of D_l = Diag(φ'(Y_l)), l = 0…L, of a ReLU MLP Y_0 = W_in x + b_in, Y_k = W_k φ(Y_{k−1}) + b_k (seed 002 Eq. (1); the
/// drawn networks have no biases, as the paper), for <see cref="Simulations"/> networks at one input, and T_W(W_l) = the fraction of
/// positive entries of W_l (l = 1…L; W_0 = W_in). D_l^i = 1 when Y_l^i &gt; 0.
/// </summary>
public sealed class ActivationPatterns
{
    readonly bool[] active;
    readonly double[] positiveWeights;

    ActivationPatterns(int simulations, int depth, int width, bool[] active, double[] positiveWeights)
    {
        Simulations = simulations;
        Depth = depth;
        Width = width;
        this.active = active;
        this.positiveWeights = positiveWeights;
    }

    public int Simulations { get; }

    /// <summary>L: D_0 … D_L are recorded.</summary>
    public int Depth { get; }

    public int Width { get; }

    public int Layers => Depth + 1;

    /// <summary>D_l^i of simulation s.</summary>
    public bool Active(int s, int l, int i) => active[((long)s * Layers + l) * Width + i];

    /// <summary>D_l^i over the simulations.</summary>
    public bool[] Entry(int l, int i) => [.. Enumerable.Range(0, Simulations).Select(s => Active(s, l, i))];

    /// <summary>T_D of D_l in simulation s: the fraction of active units.</summary>
    public double ActiveFraction(int s, int l)
    {
        int c = 0;
        for (int i = 0; i < Width; i++) if (Active(s, l, i)) c++;
        return (double)c / Width;
    }

    /// <summary>T_W of W_l in simulation s (l = 0 is W_in).</summary>
    public double PositiveWeightFraction(int s, int l) => positiveWeights[(long)s * Layers + l];

    /// <summary>Number of 1s among D_l's entries over all simulations.</summary>
    public long Ones(int l)
    {
        long c = 0;
        for (int s = 0; s < Simulations; s++)
            for (int i = 0; i < Width; i++)
                if (Active(s, l, i)) c++;
        return c;
    }

    /// <summary>
    /// <paramref name="simulations"/> networks of width n and depth L, W_in ∈ ℝ^{n×d}, W_k ∈ ℝ^{n×n} drawn by <paramref name="init"/> (biases
    /// dropped), simulation s from its own generator (<see cref="Seeds.For"/>(seed, "approximation/s")), all at the one input
    /// <paramref name="input"/>.
    /// </summary>
    public static ActivationPatterns Draw(int width, int depth, double[] input, int simulations, ILayerInit init, long seed)
    {
        var active = new bool[(long)simulations * (depth + 1) * width];
        var positive = new double[(long)simulations * (depth + 1)];
        using var x = tensor(input, [input.Length, 1], ScalarType.Float64);
        for (int s = 0; s < simulations; s++)
        {
            using var gen = new Generator((ulong)Seeds.For(seed, $"approximation/{s}"));
            using var scope = NewDisposeScope();
            Tensor? y = null;
            for (int l = 0; l <= depth; l++)
            {
                var (w, b) = init.Draw(new InitLayer(l, depth + 2, [width, l == 0 ? input.Length : width], ScalarType.Float64), gen);
                b.Dispose();
                y = l == 0 ? w.matmul(x) : w.matmul(y!.relu());
                Record(active, positive, s, l, depth + 1, width, y, w);
            }
        }
        return new(simulations, depth, width, active, positive);
    }

    /// <summary>
    /// The D_l of networks read from weights files (an MLP state_dict: 2-D <c>*.weight</c> tensors in layer order, each with its
    /// optional <c>*.bias</c>; the last is the output layer and is not used): one simulation per file at the one input
    /// <see cref="Input"/>(d, seed), or, with a single file, one simulation per input <see cref="Input"/>(d, seed, s), s &lt;
    /// <paramref name="inputs"/> (then T_W is the same in every simulation).
    /// </summary>
    public static ActivationPatterns FromWeights(IReadOnlyList<string> files, int inputs, long seed)
    {
        if (files.Count == 0) throw new InitPruneException("give at least one weights file");
        var nets = new List<List<(Tensor W, Tensor? B)>>();
        try
        {
            foreach (var f in files) nets.Add(Read(f));
            int width = (int)nets[0][0].W.shape[0], depth = nets[0].Count - 1;
            int d = (int)nets[0][0].W.shape[1];
            for (int f = 0; f < nets.Count; f++)
            {
                if (nets[f].Count != depth + 1 || nets[f][0].W.shape[1] != d || nets[f].Any(p => p.W.shape[0] != width))
                    throw new InitPruneException($"'{files[f]}' is not an MLP of the same shape as '{files[0]}' (input {d}, {depth + 1} hidden layers of width {width}): give weights files of one architecture");
            }
            List<double[]> xs = files.Count == 1 ? [.. Enumerable.Range(0, inputs).Select(i => Input(d, seed, i))] : [Input(d, seed)];
            int sims = Math.Max(files.Count, xs.Count);
            var active = new bool[(long)sims * (depth + 1) * width];
            var positive = new double[(long)sims * (depth + 1)];
            for (int s = 0; s < sims; s++)
            {
                var net = nets[files.Count == 1 ? 0 : s];
                using var scope = NewDisposeScope();
                using var x = tensor(xs[xs.Count == 1 ? 0 : s], [d, 1], ScalarType.Float64);
                Tensor? y = null;
                for (int l = 0; l <= depth; l++)
                {
                    var (w, b) = net[l];
                    y = (l == 0 ? w.matmul(x) : w.matmul(y!.relu()));
                    if (b is not null) y = y.add(b.view(-1, 1));
                    Record(active, positive, s, l, depth + 1, width, y, w);
                }
            }
            return new(sims, depth, width, active, positive);
        }
        finally
        {
            foreach (var net in nets)
                foreach (var (w, b) in net)
                {
                    w.Dispose();
                    b?.Dispose();
                }
        }
    }

    /// <summary>The fixed input x ~ N(0, I_d) of a study with this seed, or its i-th random input (Box–Muller from a seeded <see cref="Random"/>).</summary>
    public static double[] Input(int d, long seed, int? index = null)
    {
        var rng = new Random((int)(Seeds.For(seed, index is { } i ? $"approximation/input/{i}" : "approximation/input") & int.MaxValue));
        return [.. Enumerable.Range(0, d).Select(_ => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))];
    }

    static void Record(bool[] active, double[] positive, int s, int l, int layers, int width, Tensor y, Tensor w)
    {
        var on = y.gt(0).flatten().data<bool>().ToArray();
        Array.Copy(on, 0, active, ((long)s * layers + l) * width, width);
        positive[(long)s * layers + l] = w.gt(0).to_type(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>The hidden layers (W, b) of an MLP state_dict in layer order, without the output layer, as Float64.</summary>
    static List<(Tensor W, Tensor? B)> Read(string path)
    {
        using var split = StateDictLayout.Read(path, "weights file");
        var weights = split.Weights;
        var names = weights.Keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal) && weights[k].dim() == 2)
            .OrderBy(k => k, Comparer<string>.Create(CompareLayerNames)).ToList();
        if (names.Count < 3)
            throw new InitPruneException($"'{path}' has {names.Count} matrix weights; an MLP with an input layer, at least one hidden-to-hidden layer and an output layer has ≥ 3");
        if (weights.Keys.Any(k => weights[k].dim() > 2))
            throw new InitPruneException($"'{path}' holds convolution kernels; the D_l diagnostics take an MLP (2-D *.weight tensors only)");
        var layers = new List<(Tensor, Tensor?)>();
        foreach (var name in names.Take(names.Count - 1))
        {
            var bias = name[..^".weight".Length] + ".bias";
            layers.Add((Copy(weights[name]), weights.TryGetValue(bias, out var b) ? Copy(b) : null));
        }
        return layers;
    }

    static Tensor Copy(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().cpu().to_type(ScalarType.Float64).clone().MoveToOuterDisposeScope();
    }

    /// <summary>Orders names by their numbers (<c>layers.2</c> before <c>layers.10</c>), then as text.</summary>
    static int CompareLayerNames(string a, string b)
    {
        var na = Regex.Matches(a, @"\d+").Select(m => long.Parse(m.Value)).ToArray();
        var nb = Regex.Matches(b, @"\d+").Select(m => long.Parse(m.Value)).ToArray();
        for (int i = 0; i < Math.Min(na.Length, nb.Length); i++)
            if (na[i] != nb[i]) return na[i].CompareTo(nb[i]);
        return na.Length != nb.Length ? na.Length.CompareTo(nb.Length) : string.CompareOrdinal(a, b);
    }
}
