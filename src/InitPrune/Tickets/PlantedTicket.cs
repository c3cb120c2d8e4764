using System.Globalization;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tickets;

/// <summary>
/// What <see cref="PlantedTicket.Plant"/> takes: the sup-norm error ε, Theorem 5's δ and universal constant C, and the
/// σ_w of the mother's seed 004 uniform draw (<c>slt-uniform</c>: w ~ U[−s_l, s_l], s_l = √3 σ_w/√fan_in, b ~ U[−Π_{k≤l} s_k, Π_{k≤l} s_k]).
/// </summary>
public sealed record PlantConfig(double Epsilon = 0.1, double Delta = 0.01, double C = 8, double SigmaW = 1.4142135623730951)
{
    /// <summary>Rejects impossible settings with one line naming the option.</summary>
    public void Validate()
    {
        if (!(Epsilon > 0 && Epsilon < 1)) throw new InitPruneException($"--epsilon {Epsilon} is impossible: Theorem 5 takes ε in (0, 1)");
        if (!(Delta > 0 && Delta < 1)) throw new InitPruneException($"--delta {Delta} is impossible: Theorem 5 takes δ in (0, 1)");
        if (!(C > 0) || !double.IsFinite(C)) throw new InitPruneException($"--c {C} is impossible: the constant C must be finite and > 0");
        if (!(SigmaW > 0) || !double.IsFinite(SigmaW)) throw new InitPruneException($"--sigma-w {SigmaW} is impossible: use a finite value > 0");
    }
}

/// <summary>
/// One subset sum of the construction: target parameter θ of layer <see cref="Layer"/> (row <see cref="Row"/>, column
/// <see cref="Column"/>, −1 for the bias) represented by the products of the wide-layer neurons <see cref="Neurons"/>
/// (indices into mother layer 2l − 1). <see cref="Sign"/> is +1 for the pool φ(x_j), −1 for φ(−x_j) (whose sum must
/// give −θ) and 0 for the bias pool φ(1). Values are in the normalized units of Theorem 5's proof (parameters in [−1, 1]).
/// </summary>
public sealed record SubsetChoice(int Layer, int Row, int Column, int Sign, double Target, int[] Neurons, double Sum, double Error, double Tolerance, int PoolSize)
{
    public bool Within => Error <= Tolerance;
}

/// <summary>Per target layer l: Lemma 4's ε_l, the widths, the pools and how well the subset sums met their tolerances.</summary>
public sealed record PlantedLayerReport(
    int Layer,
    int InputWidth,
    int Width,
    long WideWidth,
    double EpsilonL,
    double DeltaL,
    double WeightTolerance,
    double BiasTolerance,
    int SubsetSums,
    int MinPool,
    int MaxPool,
    double MaxWeightError,
    double MaxBiasError,
    int OverTolerance,
    long KeptWeights,
    long KeptBiases);

/// <summary>sup_x ‖f(x) − g(x)‖₂ and the mean of ‖f(x) − g(x)‖₂² / n_L over the probe points.</summary>
public sealed record FunctionGap(double SupError, double Mse);

/// <summary>
/// A ReLU MLP in float64 (ReLU after every hidden layer, linear output: the zoo <c>mlp</c>'s and PyTorch
/// <c>nn.Sequential</c>'s convention), stored sparsely: only the non-zero (kept) entries are visited.
/// </summary>
public sealed class SparseMlp
{
    readonly (int Rows, int[] Start, int[] Column, double[] Value, double[] Bias)[] layers;

    public SparseMlp(IReadOnlyList<double[,]> weights, IReadOnlyList<double[]> biases)
    {
        layers = new (int, int[], int[], double[], double[])[weights.Count];
        for (int l = 0; l < weights.Count; l++)
        {
            var w = weights[l];
            var (start, column, value) = (new List<int> { 0 }, new List<int>(), new List<double>());
            for (int i = 0; i < w.GetLength(0); i++)
            {
                for (int j = 0; j < w.GetLength(1); j++)
                {
                    if (w[i, j] == 0) continue;
                    column.Add(j);
                    value.Add(w[i, j]);
                }
                start.Add(column.Count);
            }
            layers[l] = (w.GetLength(0), [.. start], [.. column], [.. value], biases[l]);
        }
    }

    public int OutputWidth => layers[^1].Rows;

    public double[] Forward(double[] x)
    {
        for (int l = 0; l < layers.Length; l++)
        {
            var (rows, start, column, value, bias) = layers[l];
            var next = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                double h = bias[i];
                for (int e = start[i]; e < start[i + 1]; e++) h += value[e] * x[column[e]];
                next[i] = l < layers.Length - 1 ? Math.Max(h, 0) : h;
            }
            x = next;
        }
        return x;
    }

    /// <summary>The gap between <paramref name="f"/> and <paramref name="scale"/>·g (g this network) over <paramref name="inputs"/>.</summary>
    public static FunctionGap Gap(SparseMlp f, SparseMlp g, double scale, IEnumerable<double[]> inputs)
    {
        double sup = 0, sum = 0;
        long count = 0;
        foreach (var x in inputs)
        {
            var (a, b) = (f.Forward(x), g.Forward(x));
            double sq = 0;
            for (int i = 0; i < a.Length; i++) sq += (a[i] - scale * b[i]) * (a[i] - scale * b[i]);
            sup = Math.Max(sup, Math.Sqrt(sq));
            sum += sq / a.Length;
            count++;
        }
        return new FunctionGap(sup, sum / Math.Max(count, 1));
    }
}

/// <summary>
/// A strong lottery ticket planted by the construction of seed 004 Theorem 5 (proof in Appendix B.4). A target ReLU
/// network f of depth L is represented inside a random mother network f₀ of depth 2L: mother layers 2l − 1 (wide) and
/// 2l (width n_l) represent target layer l through x_i⁽ˡ⁾ = φ(Σ_j w_ij φ(x_j) − Σ_j w_ij φ(−x_j) + b_i φ(1)). Each
/// wide-layer neuron keeps one weight (to x_j) or only its positive bias, so it computes a φ(±x_j) or φ(1) candidate;
/// every target weight w_ij, −w_ij and bias b_i is the subset sum of the products w'_{2l,ik}·w'_{2l−1,kj} (or
/// w'_{2l,ik}·b'_{2l−1,k}) that <see cref="SubsetSum.BestSubset"/> picks, to within ε_l/2 (weights) or ε_l (biases),
/// ε_l from Lemma 4 (B.3). The widths are Theorem 5's (B.4): n_{2l−1,0} = ⌈C n_{l−1} log(1/min{ε_l, δ_l})⌉ (see
/// <see cref="TicketWidth"/>), n_{2l,0} = n_l. The mother's parameters are seed 004's uniform draw; by Lemma 2 the
/// ticket with the raw parameters computes f_ε/λ, λ = Π_{m=1}^{2L} s_m⁻¹, so λ f_ε ≈ f.
/// Choices stated: the wide layer is cut into n_{l−1} + 1 equal consecutive blocks, block j the pools φ(x_j)
/// (positive w_{kj}) and φ(−x_j) (negative w_{kj}; only for l = 1, since later inputs are ReLU outputs ≥ 0 and
/// φ(−x_j) = 0), the last block the pool φ(1) (positive biases); a pool holds at most <see cref="SubsetSum.MaxItems"/>
/// candidates (the first ones); the biases of the layers 2l stay pruned. The target's output is linear (the zoo mlp's
/// convention): Lemmas 2 and 4 hold for an identity last activation as they do for φ.
/// </summary>
public sealed class PlantedTicket : IDisposable
{
    PlantedTicket(Mlp mother, Mask mask, TargetParameters target, PlantConfig config, double lambda, double[] scales,
        IReadOnlyList<SubsetChoice> choices, IReadOnlyList<PlantedLayerReport> layers)
    {
        Mother = mother;
        Mask = mask;
        Target = target;
        Config = config;
        Lambda = lambda;
        Scales = scales;
        Choices = choices;
        Layers = layers;
    }

    /// <summary>The mother network f₀ (depth 2L, PyTorch names layers.0, layers.2, …), at its random initialization.</summary>
    public Mlp Mother { get; }

    /// <summary>The planted ticket: kept weights and biases of <see cref="Mother"/>.</summary>
    public Mask Mask { get; }

    public TargetParameters Target { get; }
    public PlantConfig Config { get; }

    /// <summary>Theorem 5's output scale λ = Π_{m=1}^{2L} s_m⁻¹ (s_m the half-width of mother layer m's weight law).</summary>
    public double Lambda { get; }

    /// <summary>s_m = √3 σ_w/√fan_in of every mother layer m (forward order): w ~ U[−s_m, s_m], b ~ U[−Π_{k≤m} s_k, Π_{k≤m} s_k].</summary>
    public IReadOnlyList<double> Scales { get; }

    public IReadOnlyList<SubsetChoice> Choices { get; }
    public IReadOnlyList<PlantedLayerReport> Layers { get; }

    public int[] TargetArchitecture => Architecture(Target);

    /// <summary>The mother's widths n̄₀ = [n₀, n_{1,0}, …, n_{2L,0}].</summary>
    public long[] MotherWidths => [Mother.InputSize, .. Mother.Widths, Target.Weights[^1].GetLength(0)];

    /// <summary>A random target with architecture [n₀, …, n_L] and every weight and bias drawn from U[−1, 1], Theorem 5's admissible range.</summary>
    public static TargetParameters RandomTarget(IReadOnlyList<int> architecture, long seed)
    {
        if (architecture.Count < 2 || architecture.Any(n => n <= 0))
            throw new InitPruneException($"--architecture {string.Join(",", architecture)} is impossible: give at least two positive widths n_0,...,n_L");
        var random = new Random((int)(Seeds.For(seed, "planted target") & int.MaxValue));
        var weights = new List<double[,]>();
        var biases = new List<double[]>();
        for (int l = 1; l < architecture.Count; l++)
        {
            var w = new double[architecture[l], architecture[l - 1]];
            for (int i = 0; i < w.GetLength(0); i++)
                for (int j = 0; j < w.GetLength(1); j++) w[i, j] = 2 * random.NextDouble() - 1;
            weights.Add(w);
            biases.Add([.. Enumerable.Range(0, architecture[l]).Select(_ => 2 * random.NextDouble() - 1)]);
        }
        return new TargetParameters(weights, biases);
    }

    /// <summary>Parses "2,6,1" into widths; a malformed list is one line naming <c>--architecture</c>.</summary>
    public static int[] ParseArchitecture(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out widths[i]) || widths[i] <= 0)
                throw new InitPruneException($"--architecture '{text}' is impossible: give the target's widths n_0,...,n_L as positive integers, e.g. 2,6,1");
        if (widths.Length < 2)
            throw new InitPruneException($"--architecture '{text}' is impossible: give at least n_0 and n_L, e.g. 2,6,1");
        return widths;
    }

    public static int[] Architecture(TargetParameters target) => [target.Weights[0].GetLength(1), .. target.Weights.Select(w => w.GetLength(0))];

    /// <summary>The largest wide layer <see cref="Plant"/> builds (a larger C or smaller ε is refused in one line).</summary>
    public const long MaxWideWidth = 200_000;

    /// <summary>The largest mother network (weights plus biases) <see cref="Plant"/> builds.</summary>
    public const long MaxMotherParameters = 5_000_000;

    /// <summary>Builds the mother network, draws it from <paramref name="seed"/>, solves every subset sum and returns the planted ticket.</summary>
    public static PlantedTicket Plant(TargetParameters target, PlantConfig config, long seed)
    {
        config.Validate();
        var info = TargetNetwork.FromParameters(target.Weights, target.Biases);
        int depth = target.Weights.Count;
        var arch = Architecture(target);
        var widths = TicketWidth.Compute(info, config.Epsilon, config.Delta, config.C, TicketBoundVariant.Appendix);
        if (widths.MotherParameters > MaxMotherParameters)
            throw new InitPruneException(string.Create(CultureInfo.InvariantCulture, $"Theorem 5's mother network for the target [{string.Join(",", arch)}] with --epsilon {config.Epsilon} and --c {config.C} has {widths.MotherParameters:N0} parameters, more than {MaxMotherParameters:N0}: use a smaller target, a larger --epsilon or a smaller --c"));
        var hidden = new List<long>();
        for (int l = 1; l <= depth; l++)
        {
            long wide = widths.Layers[l - 1].WideWidth;
            if (wide < arch[l - 1] + 1)
                throw new InitPruneException($"--c {config.C} gives the wide layer {2 * l - 1} only {wide} neurons, fewer than the {arch[l - 1] + 1} pools (one per input and one for the bias) of the construction: raise --c");
            if (wide > MaxWideWidth)
                throw new InitPruneException(string.Create(CultureInfo.InvariantCulture, $"--c {config.C} and --epsilon {config.Epsilon} ask for {wide:N0} neurons in layer {2 * l - 1}, more than {MaxWideWidth:N0}: lower --c or raise --epsilon"));
            hidden.Add(wide);
            if (l < depth) hidden.Add(arch[l]);
        }
        var mother = new Mlp(arch[0], hidden, arch[^1], "relu");
        try
        {
            Initializers.Apply(mother, new InitSpec("slt-uniform", config.SigmaW), Seeds.For(seed, "planted mother"));
            var (weights, biases) = Parameters(mother);
            // Seed 004 Theorem 5 / ScaledBiasInit.Uniform: s_m = √3 σ_w / √fan_in, biases bounded by Π_{k≤m} s_k.
            var scales = weights.Select(w => Math.Sqrt(3) * config.SigmaW / Math.Sqrt(w.GetLength(1))).ToArray();
            double lambda = 1 / scales.Aggregate(1.0, (a, s) => a * s);
            var keepW = weights.Select(w => new bool[w.GetLength(0), w.GetLength(1)]).ToArray();
            var keepB = biases.Select(b => new bool[b.Length]).ToArray();
            var choices = new List<SubsetChoice>();
            var reports = new List<PlantedLayerReport>();
            double biasScale = 1;
            for (int l = 1; l <= depth; l++)
            {
                int a = 2 * l - 2, b = 2 * l - 1;
                double sa = scales[a], sb = scales[b];
                double biasA = biasScale * sa;
                biasScale = biasA * sb;
                var (A, c, V) = (weights[a], biases[a], weights[b]);
                int inputs = arch[l - 1], rows = arch[l];
                int wide = A.GetLength(0);
                var blocks = Blocks(wide, inputs + 1);
                double epsL = widths.Layers[l - 1].EpsilonL;
                var (tolW, tolB) = (epsL / 2, epsL); // Seed 004 B.4: ±w_ij to ε_l/2, b_i to ε_l.
                var plus = new List<int>[inputs];
                var minus = new List<int>[inputs];
                for (int j = 0; j < inputs; j++)
                {
                    var block = blocks[j];
                    plus[j] = [.. block.Where(k => A[k, j] > 0).Take(SubsetSum.MaxItems)];
                    minus[j] = l == 1 ? [.. block.Where(k => A[k, j] < 0).Take(SubsetSum.MaxItems)] : [];
                }
                var biasPool = blocks[inputs].Where(k => c[k] > 0).Take(SubsetSum.MaxItems).ToList();
                var layerChoices = new List<SubsetChoice>();
                for (int i = 0; i < rows; i++)
                {
                    for (int j = 0; j < inputs; j++)
                    {
                        double w = target.Weights[l - 1][i, j];
                        layerChoices.Add(Solve(l, i, j, +1, w, plus[j], k => V[i, k] / sb * (A[k, j] / sa), tolW));
                        if (l == 1)
                            layerChoices.Add(Solve(l, i, j, -1, -w, minus[j], k => V[i, k] / sb * (-A[k, j] / sa), tolW));
                    }
                    layerChoices.Add(Solve(l, i, -1, 0, target.Biases[l - 1][i], biasPool, k => V[i, k] / sb * (c[k] / biasA), tolB));
                }
                foreach (var ch in layerChoices)
                    foreach (int k in ch.Neurons)
                    {
                        keepW[b][ch.Row, k] = true;
                        if (ch.Column >= 0) keepW[a][k, ch.Column] = true;
                        else keepB[a][k] = true;
                    }
                choices.AddRange(layerChoices);
                var pools = plus.Concat(minus).Where((p, idx) => l == 1 || idx < inputs).Append(biasPool).Select(p => p.Count).ToList();
                var weightErrors = layerChoices.Where(x => x.Column >= 0).Select(x => x.Error).DefaultIfEmpty(0);
                var biasErrors = layerChoices.Where(x => x.Column < 0).Select(x => x.Error).DefaultIfEmpty(0);
                reports.Add(new PlantedLayerReport(l, inputs, rows, wide, epsL, widths.Layers[l - 1].DeltaL, tolW, tolB, layerChoices.Count,
                    pools.Min(), pools.Max(), weightErrors.Max(), biasErrors.Max(), layerChoices.Count(x => !x.Within),
                    Count(keepW[a]) + Count(keepW[b]), keepB[a].Count(x => x) + keepB[b].Count(x => x)));
            }
            var mask = BuildMask(mother, keepW, keepB);
            return new PlantedTicket(mother, mask, target, config, lambda, scales, choices, reports);
        }
        catch
        {
            mother.Dispose();
            throw;
        }
    }

    static SubsetChoice Solve(int layer, int row, int column, int sign, double target, List<int> pool, Func<int, double> product, double tolerance)
    {
        var items = pool.Select(product).ToArray();
        var (_, subset) = SubsetSum.BestSubset(items, target);
        double sum = subset.Sum(s => items[s]);
        return new SubsetChoice(layer, row, column, sign, target, [.. subset.Select(s => pool[s])], sum, Math.Abs(sum - target), tolerance, pool.Count);
    }

    /// <summary><paramref name="count"/> consecutive blocks of 0..n−1, sizes differing by at most one (the larger first).</summary>
    static List<int[]> Blocks(int n, int count)
    {
        var result = new List<int[]>();
        int start = 0;
        for (int b = 0; b < count; b++)
        {
            int size = n / count + (b < n % count ? 1 : 0);
            result.Add([.. Enumerable.Range(start, size)]);
            start += size;
        }
        return result;
    }

    static long Count(bool[,] keep)
    {
        long n = 0;
        foreach (bool k in keep) if (k) n++;
        return n;
    }

    static Mask BuildMask(Mlp mother, bool[][,] keepW, bool[][] keepB)
    {
        var masks = new TensorDict();
        var layers = Network.Layers(mother).ToList();
        for (int m = 0; m < layers.Count; m++)
        {
            var (name, _) = layers[m];
            var w = keepW[m];
            var flat = new bool[w.Length];
            int rows = w.GetLength(0), cols = w.GetLength(1);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) flat[i * cols + j] = w[i, j];
            masks.Add($"{name}.weight", tensor(flat, [rows, cols]));
            masks.Add($"{name}.bias", tensor(keepB[m], [keepB[m].Length]));
        }
        return new Mask(masks);
    }

    /// <summary>Weights ([out, in]) and biases of every masked layer of <paramref name="model"/>, in forward order, as float64.</summary>
    public static (List<double[,]> Weights, List<double[]> Biases) Parameters(nn.Module model)
    {
        var weights = new List<double[,]>();
        var biases = new List<double[]>();
        foreach (var (_, layer) in Network.Layers(model))
        {
            var matrix = TargetParameters.Matrix(layer.weight);
            weights.Add(matrix);
            if (layer.bias is null) biases.Add(new double[matrix.GetLength(0)]);
            else
            {
                using var bias = layer.bias.detach().cpu().to(ScalarType.Float64);
                biases.Add([.. bias.data<double>()]);
            }
        }
        return (weights, biases);
    }

    /// <summary>The sub-network of <paramref name="model"/> that <paramref name="mask"/> keeps (a weight or bias missing from the mask is kept).</summary>
    public static SparseMlp Masked(nn.Module model, Mask mask)
    {
        var (weights, biases) = Parameters(model);
        var layers = Network.Layers(model).Select(l => l.Name).ToList();
        for (int m = 0; m < layers.Count; m++)
        {
            if (mask.Tensors.TryGetValue($"{layers[m]}.weight", out var mw))
            {
                using var keep = mw.cpu().to(ScalarType.Float64);
                var k = keep.data<double>().ToArray();
                int cols = weights[m].GetLength(1);
                for (int i = 0; i < weights[m].GetLength(0); i++)
                    for (int j = 0; j < cols; j++) weights[m][i, j] *= k[i * cols + j];
            }
            if (mask.Tensors.TryGetValue($"{layers[m]}.bias", out var mb))
            {
                using var keep = mb.cpu().to(ScalarType.Float64);
                var k = keep.data<double>().ToArray();
                for (int i = 0; i < biases[m].Length; i++) biases[m][i] *= k[i];
            }
        }
        return new SparseMlp(weights, biases);
    }

    /// <summary>The target f as a network (ReLU after hidden layers, linear output).</summary>
    public SparseMlp TargetNet() => new(Target.Weights, Target.Biases);

    /// <summary>The planted ticket f_ε (mother parameters as drawn, pruned by <see cref="Mask"/>); λ f_ε approximates f.</summary>
    public SparseMlp TicketNet() => Masked(Mother, Mask);

    /// <summary>
    /// Probe points of [−1, 1]^{n₀}: a regular grid of <paramref name="gridPoints"/> per axis when n₀ ≤ 2 (corners
    /// included), else the 2^{n₀} corners (n₀ ≤ 12) and <paramref name="samples"/> uniform points.
    /// </summary>
    public static List<double[]> Probe(int inputWidth, int gridPoints, int samples, long seed)
    {
        var points = new List<double[]>();
        if (inputWidth <= 2)
        {
            var axis = Enumerable.Range(0, gridPoints).Select(g => -1 + 2.0 * g / (gridPoints - 1)).ToArray();
            if (inputWidth == 1) points.AddRange(axis.Select(a => new[] { a }));
            else foreach (double a in axis) points.AddRange(axis.Select(b => new[] { a, b }));
            return points;
        }
        if (inputWidth <= 12)
            for (int m = 0; m < 1 << inputWidth; m++)
                points.Add([.. Enumerable.Range(0, inputWidth).Select(j => (m >> j & 1) == 1 ? 1.0 : -1.0)]);
        var random = new Random((int)(Seeds.For(seed, "planted probe") & int.MaxValue));
        for (int s = 0; s < samples; s++)
            points.Add([.. Enumerable.Range(0, inputWidth).Select(_ => 2 * random.NextDouble() - 1)]);
        return points;
    }

    /// <summary>How the probe was made, for the reports.</summary>
    public static string ProbeDescription(int inputWidth, int gridPoints, int samples) => inputWidth <= 2
        ? $"grid of {gridPoints} points per axis over [-1,1]^{inputWidth}"
        : $"{(inputWidth <= 12 ? $"{1 << inputWidth} corners and " : "")}{samples} uniform samples of [-1,1]^{inputWidth}";

    /// <summary>‖f − λ f_ε‖ over <paramref name="probe"/>, with f_ε the mother pruned by <paramref name="mask"/> (default: the planted one).</summary>
    public FunctionGap Check(IEnumerable<double[]> probe, Mask? mask = null) =>
        SparseMlp.Gap(TargetNet(), Masked(Mother, mask ?? Mask), Lambda, probe);

    /// <summary>The target's tensors with PyTorch names of the zoo mlp (layers.0.weight, layers.0.bias, layers.2.weight, …), float64.</summary>
    public static TensorDict TargetTensors(TargetParameters target)
    {
        var result = new TensorDict();
        for (int l = 0; l < target.Weights.Count; l++)
        {
            var w = target.Weights[l];
            var flat = new double[w.Length];
            int cols = w.GetLength(1);
            for (int i = 0; i < w.GetLength(0); i++)
                for (int j = 0; j < cols; j++) flat[i * cols + j] = w[i, j];
            result.Add($"layers.{2 * l}.weight", tensor(flat, [w.GetLength(0), cols], ScalarType.Float64));
            result.Add($"layers.{2 * l}.bias", tensor(target.Biases[l], [target.Biases[l].Length], ScalarType.Float64));
        }
        return result;
    }

    public void Dispose()
    {
        Mask.Dispose();
        Mother.Dispose();
    }
}
