using InitPrune.Engine;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Theory;
using InitPrune.Tickets;
using static TorchSharp.torch;

namespace InitPrune.Tests.Tickets;

/// <summary>
/// Seed 004 Theorem 5's planted ticket, checked against quantities recomputed here from the tensors: the masked mother
/// network's forward pass, the subset sums of raw weight products, Lemma 4's tolerances and the mask counts.
/// </summary>
public sealed class PlantedTicketTests : IDisposable
{
    const double SigmaW = 1.4142135623730951;
    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    static PlantedTicket Plant(int[] architecture, long seed, double epsilon = 0.1) =>
        PlantedTicket.Plant(PlantedTicket.RandomTarget(architecture, seed), new PlantConfig(epsilon, 0.01, 8, SigmaW), seed);

    /// <summary>The mother's tensors by PyTorch name, as float64 arrays with their shapes.</summary>
    static Dictionary<string, (double[] Values, long[] Shape)> Tensors(IEnumerable<KeyValuePair<string, Tensor>> source) =>
        source.ToDictionary(kv => kv.Key, kv =>
        {
            using var t = kv.Value.detach().cpu().to(ScalarType.Float64);
            return (t.data<double>().ToArray(), t.shape);
        });

    /// <summary>f(x) of the target and λ·f_ε(x) of the masked mother, both by hand (ReLU after hidden layers, linear output).</summary>
    static double[] HandForward(Dictionary<string, (double[] Values, long[] Shape)> p, Dictionary<string, (double[] Values, long[] Shape)>? mask, int layers, double[] x)
    {
        for (int m = 0; m < layers; m++)
        {
            var (w, shape) = p[$"layers.{2 * m}.weight"];
            var b = p[$"layers.{2 * m}.bias"].Values;
            var mw = mask?[$"layers.{2 * m}.weight"].Values;
            var mb = mask?[$"layers.{2 * m}.bias"].Values;
            int rows = (int)shape[0], cols = (int)shape[1];
            var next = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                double h = b[i] * (mb?[i] ?? 1);
                for (int j = 0; j < cols; j++) h += w[i * cols + j] * (mw?[i * cols + j] ?? 1) * x[j];
                next[i] = m < layers - 1 ? Math.Max(h, 0) : h;
            }
            x = next;
        }
        return x;
    }

    /// <summary>A grid of 41 points per axis (n₀ ≤ 2) or the corners and 3000 uniform points.</summary>
    static List<double[]> Points(int n0, int seed)
    {
        var axis = Enumerable.Range(0, 41).Select(g => -1 + g / 20.0).ToArray();
        if (n0 == 1) return [.. axis.Select(a => new[] { a })];
        if (n0 == 2) return [.. axis.SelectMany(a => axis.Select(b => new[] { a, b }))];
        var rng = new Random(seed);
        var points = Enumerable.Range(0, 1 << n0).Select(m => Enumerable.Range(0, n0).Select(j => (m >> j & 1) == 1 ? 1.0 : -1.0).ToArray()).ToList();
        points.AddRange(Enumerable.Range(0, 3000).Select(_ => Enumerable.Range(0, n0).Select(_ => 2 * rng.NextDouble() - 1).ToArray()));
        return points;
    }

    /// <summary>s_m = √3 σ_w/√fan_in for every mother layer (seed 004's uniform law, slt-uniform).</summary>
    static double[] Scales(Dictionary<string, (double[] Values, long[] Shape)> p, int layers) =>
        [.. Enumerable.Range(0, layers).Select(m => Math.Sqrt(3) * SigmaW / Math.Sqrt(p[$"layers.{2 * m}.weight"].Shape[1]))];

    [Theory]
    [InlineData(new[] { 2, 6, 1 }, 0)]
    [InlineData(new[] { 2, 5, 1 }, 3)]
    [InlineData(new[] { 1, 4, 1 }, 5)]
    [InlineData(new[] { 3, 4, 2 }, 2)]
    [InlineData(new[] { 1, 3, 3, 1 }, 1)]
    public void The_planted_ticket_meets_epsilon_by_an_independent_forward_pass(int[] architecture, int seed)
    {
        using var planted = Plant(architecture, seed);
        var p = Tensors(planted.Mother.state_dict());
        var mask = Tensors(planted.Mask.Tensors);
        var target = Tensors(PlantedTicket.TargetTensors(planted.Target));
        int depth = architecture.Length - 1;
        var scales = Scales(p, 2 * depth);
        double lambda = 1 / scales.Aggregate(1.0, (a, s) => a * s);
        Assert.Equal(lambda, planted.Lambda, 1e-9 * lambda);
        // The draw is seed 004's uniform law: |w| ≤ s_m, |b| ≤ Π_{k≤m} s_k.
        double bound = 1;
        for (int m = 0; m < 2 * depth; m++)
        {
            bound *= scales[m];
            Assert.All(p[$"layers.{2 * m}.weight"].Values, v => Assert.True(Math.Abs(v) <= scales[m] * (1 + 1e-6)));
            Assert.All(p[$"layers.{2 * m}.bias"].Values, v => Assert.True(Math.Abs(v) <= bound * (1 + 1e-6)));
        }
        double sup = 0;
        foreach (var x in Points(architecture[0], seed))
        {
            var f = HandForward(target, null, depth, x);
            var g = HandForward(p, mask, 2 * depth, x);
            sup = Math.Max(sup, Math.Sqrt(f.Zip(g, (a, b) => (a - lambda * b) * (a - lambda * b)).Sum()));
        }
        Assert.True(sup <= 0.1, $"sup ‖f − λ f_ε‖ = {sup} > ε = 0.1");
        // The library's own check (a finer probe) agrees that the bound holds.
        var gap = planted.Check(PlantedTicket.Probe(architecture[0], 61, 2000, seed));
        Assert.True(gap.SupError <= 0.1);
        Assert.True(Math.Abs(gap.SupError - sup) < 0.1);
    }

    /// <summary>Lemma 4 (Appendix B.3) by hand for a target of depth 2: ε_l = ε / (L √m_l (1 + sup ‖x⁽ˡ⁻¹⁾‖₁) Π_{k>l} (‖W⁽ᵏ⁾‖_∞ + ε/L)).</summary>
    static double[] Tolerances(TargetParameters t, double epsilon)
    {
        var (w1, b1, w2, b2) = (t.Weights[0], t.Biases[0], t.Weights[1], t.Biases[1]);
        int m1 = w1.Length + b1.Length, m2 = w2.Length + b2.Length;
        double sup0 = w1.GetLength(1);
        double sup1 = Enumerable.Range(0, b1.Length).Sum(i => Math.Max(0, b1[i] + Enumerable.Range(0, w1.GetLength(1)).Sum(j => Math.Abs(w1[i, j]))));
        double max2 = w2.Cast<double>().Max(Math.Abs);
        return [epsilon / (2 * Math.Sqrt(m1) * (1 + sup0) * (max2 + epsilon / 2)), epsilon / (2 * Math.Sqrt(m2) * (1 + sup1))];
    }

    [Theory]
    [InlineData(new[] { 2, 6, 1 }, 0)]
    [InlineData(new[] { 2, 5, 1 }, 3)]
    [InlineData(new[] { 3, 4, 2 }, 2)]
    public void Every_subset_sum_of_raw_products_is_within_its_tolerance(int[] architecture, int seed)
    {
        using var planted = Plant(architecture, seed);
        var p = Tensors(planted.Mother.state_dict());
        var scales = Scales(p, 4);
        var eps = Tolerances(planted.Target, 0.1);
        int expected = 0;
        for (int l = 1; l <= 2; l++)
            expected += architecture[l] * (architecture[l - 1] * (l == 1 ? 2 : 1) + 1);
        Assert.Equal(expected, planted.Choices.Count);
        var owner = new Dictionary<(int Layer, int Neuron), (int Column, int Sign)>();
        foreach (var c in planted.Choices)
        {
            int a = 2 * c.Layer - 2, b = a + 1;
            var (A, shapeA) = p[$"layers.{2 * a}.weight"];
            var bias = p[$"layers.{2 * a}.bias"].Values;
            var (V, shapeV) = p[$"layers.{2 * b}.weight"];
            double biasScale = scales.Take(a + 1).Aggregate(1.0, (x, s) => x * s);
            double sum = 0;
            foreach (int k in c.Neurons)
            {
                double v = V[c.Row * shapeV[1] + k] / scales[b];
                double u = c.Column >= 0 ? A[k * shapeA[1] + c.Column] / scales[a] : bias[k] / biasScale;
                // The pools: φ(x_j) from positive weights, φ(−x_j) from negative ones, φ(1) from positive biases.
                Assert.True(c.Sign == -1 ? u < 0 : u > 0, $"neuron {k} of layer {a + 1} has the wrong sign for pool {c.Sign}");
                sum += v * Math.Abs(u);
                // A wide neuron serves one pool only (it keeps one weight, or only its bias).
                var role = (c.Column, c.Column >= 0 ? Math.Sign(u) : 0);
                Assert.Equal(role, owner.TryGetValue((c.Layer, k), out var seen) ? seen : owner[(c.Layer, k)] = role);
            }
            double theta = c.Column < 0 ? planted.Target.Biases[c.Layer - 1][c.Row] : c.Sign * planted.Target.Weights[c.Layer - 1][c.Row, c.Column];
            double tolerance = c.Column < 0 ? eps[c.Layer - 1] : eps[c.Layer - 1] / 2;
            Assert.Equal(theta, c.Target, 1e-15);
            Assert.Equal(Math.Abs(sum - theta), c.Error, 1e-9);
            Assert.Equal(tolerance, c.Tolerance, 1e-12 * tolerance);
            Assert.True(Math.Abs(sum - theta) <= tolerance, $"layer {c.Layer} row {c.Row} column {c.Column}: |Σ − θ| = {Math.Abs(sum - theta)} > {tolerance}");
        }
    }

    [Fact]
    public void The_mask_keeps_exactly_the_entries_of_the_construction()
    {
        using var planted = Plant([2, 6, 1], 0);
        var mask = Tensors(planted.Mask.Tensors);
        Assert.Equal(8, mask.Count);
        for (int l = 1; l <= 2; l++)
        {
            int a = 2 * l - 2, b = a + 1;
            var choices = planted.Choices.Where(c => c.Layer == l).ToList();
            var wideWeights = choices.Where(c => c.Column >= 0).SelectMany(c => c.Neurons.Select(k => (k, c.Column))).ToHashSet();
            var wideBiases = choices.Where(c => c.Column < 0).SelectMany(c => c.Neurons).ToHashSet();
            var narrow = choices.SelectMany(c => c.Neurons.Select(k => (c.Row, k))).ToHashSet();
            Assert.Equal(choices.Sum(c => c.Neurons.Length), narrow.Count); // no neuron serves two pools of one row
            var (mA, shapeA) = mask[$"layers.{2 * a}.weight"];
            var (mV, shapeV) = mask[$"layers.{2 * b}.weight"];
            Assert.Equal(wideWeights, Kept(mA, shapeA).ToHashSet());
            Assert.Equal(narrow, Kept(mV, shapeV).ToHashSet());
            Assert.Equal(wideBiases, mask[$"layers.{2 * a}.bias"].Values.Select((v, k) => (v, k)).Where(e => e.v != 0).Select(e => e.k).ToHashSet());
            Assert.All(mask[$"layers.{2 * b}.bias"].Values, v => Assert.Equal(0, v));
            var report = planted.Layers[l - 1];
            Assert.Equal(wideWeights.Count + narrow.Count, report.KeptWeights);
            Assert.Equal(wideBiases.Count, report.KeptBiases);
            Assert.Equal(planted.MotherWidths[2 * l - 1], report.WideWidth);
        }
        Assert.Equal(planted.Layers.Sum(r => r.KeptWeights + r.KeptBiases), planted.Mask.Kept);

        static IEnumerable<(int, int)> Kept(double[] m, long[] shape) =>
            Enumerable.Range(0, m.Length).Where(e => m[e] != 0).Select(e => (e / (int)shape[1], e % (int)shape[1]));
    }

    [Fact]
    public void The_mother_has_the_widths_of_Theorem_5()
    {
        using var planted = Plant([2, 6, 1], 0);
        var widths = TicketWidth.Compute(TargetNetwork.FromParameters(planted.Target.Weights, planted.Target.Biases), 0.1, 0.01, 8, TicketBoundVariant.Appendix);
        Assert.Equal([2L, widths.Layers[0].WideWidth, 6L, widths.Layers[1].WideWidth, 1L], planted.MotherWidths);
        // B.4: n_{2l−1,0} = ⌈C n_{l−1} log(1 / min{ε_l, δ_l})⌉, δ_l = δ / (L k_{l,max} n_l).
        var eps = Tolerances(planted.Target, 0.1);
        Assert.Equal((long)Math.Ceiling(8 * 2 * Math.Log(1 / Math.Min(eps[0], 0.01 / (2 * 3 * 6)))), planted.MotherWidths[1]);
        Assert.Equal((long)Math.Ceiling(8 * 6 * Math.Log(1 / Math.Min(eps[1], 0.01 / (2 * 7 * 1)))), planted.MotherWidths[3]);
    }

    [Fact]
    public void Dropping_one_planted_entry_is_caught_by_the_check()
    {
        using var planted = Plant([2, 6, 1], 0);
        var probe = PlantedTicket.Probe(2, 41, 0, 0);
        Assert.True(planted.Check(probe).SupError <= 0.1);
        // The output layer is linear and a φ(1) neuron is constant, so dropping its weight shifts f_ε by its product everywhere.
        var p = Tensors(planted.Mother.state_dict());
        var scales = Scales(p, 4);
        var biasChoice = planted.Choices.Single(c => c.Layer == 2 && c.Column < 0);
        var V = p["layers.6.weight"].Values;
        var bias = p["layers.4.bias"].Values;
        int k = biasChoice.Neurons.MaxBy(n => Math.Abs(V[n] * bias[n]));
        double shift = Math.Abs(planted.Lambda * V[k] * bias[k]); // in the target's units
        Assert.True(shift > 0.2, $"the largest product {shift} is too small to test with");
        using var corrupted = new Mask(TensorDict.CloneOf(planted.Mask.Tensors));
        corrupted.Tensors["layers.6.weight"][0, k] = tensor(false);
        Assert.Equal(planted.Mask.Kept - 1, corrupted.Kept);
        double sup = planted.Check(probe, corrupted).SupError;
        Assert.True(sup > 0.1, $"the check missed a dropped entry: sup error {sup}");
        Assert.Equal(shift, sup, 0.1);
    }

    [Fact]
    public void Impossible_constructions_are_refused_in_one_line()
    {
        var big = PlantedTicket.RandomTarget([2, 300, 300, 1], 0);
        Assert.Contains("parameters, more than", Assert.Throws<InitPruneException>(() => PlantedTicket.Plant(big, new PlantConfig(), 0)).Message);
        var small = PlantedTicket.RandomTarget([2, 3, 1], 0);
        Assert.Contains("raise --c", Assert.Throws<InitPruneException>(() => PlantedTicket.Plant(small, new PlantConfig(C: 0.01), 0)).Message);
        Assert.Contains("--delta", Assert.Throws<InitPruneException>(() => PlantedTicket.Plant(small, new PlantConfig(Delta: 1), 0)).Message);
        Assert.Throws<InitPruneException>(() => PlantedTicket.ParseArchitecture("5"));
    }

    [Fact]
    public void BestSubset_finds_the_exact_optimum_and_its_subset()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 30; trial++)
        {
            var items = Enumerable.Range(0, 1 + rng.Next(18)).Select(_ => (2 * rng.NextDouble() - 1) * rng.NextDouble()).ToArray();
            double target = 2 * rng.NextDouble() - 1;
            var (error, subset) = SubsetSum.BestSubset(items, target);
            Assert.Equal(SubsetSum.BestError(items, target), error, 1e-12);
            Assert.Equal(error, Math.Abs(target - subset.Sum(i => items[i])), 1e-12);
            Assert.Equal(subset.Distinct().Order(), subset);
        }
    }

    [Fact]
    public void Plant_cli_writes_the_ticket_and_reports_the_check_and_edge_popup()
    {
        var dir = root.Sub("plant");
        var r = CliRunner.Run("plant", "--architecture", "2,4,1", "--grid-points", "41", "--edge-popup-epochs", "2", "--edge-popup-samples", "256",
            "--seed", "1", "--json", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var s = r.Json;
        Assert.Equal(new[] { 2, 4, 1 }, s.GetProperty("target").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(5, s.GetProperty("mother_widths").GetArrayLength());
        var check = s.GetProperty("check");
        Assert.True(check.GetProperty("holds").GetBoolean());
        Assert.True(check.GetProperty("sup_error").GetDouble() <= 0.1);
        Assert.Equal(41 * 41, check.GetProperty("points").GetInt64());
        Assert.Equal(2, s.GetProperty("layers").GetArrayLength());
        foreach (var f in new[] { "mask.safetensors", "weights.safetensors", "target.safetensors", "summary.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        using (var mask = Mask.Load(Path.Combine(dir, "mask.safetensors")))
            Assert.Equal(s.GetProperty("kept_weights").GetInt64() + s.GetProperty("kept_biases").GetInt64(), mask.Kept);
        var e = s.GetProperty("edge_popup");
        Assert.Equal(2, e.GetProperty("history").GetArrayLength());
        double jaccard = e.GetProperty("jaccard").GetDouble();
        Assert.InRange(jaccard, 0, 1);
        long overlap = e.GetProperty("overlap").GetInt64(), kept = e.GetProperty("kept").GetInt64(), planted = e.GetProperty("planted_kept").GetInt64();
        Assert.Equal((double)overlap / (kept + planted - overlap), jaccard, 1e-12);
        Assert.Equal(s.GetProperty("check").GetProperty("sup_error").GetDouble(), e.GetProperty("planted_sup_error").GetDouble());

        // The written target, read back, plants again (same seed, same mother): the same check result.
        var again = CliRunner.Run("plant", "--target", Path.Combine(dir, "target.safetensors"), "--grid-points", "41", "--skip-edge-popup",
            "--seed", "1", "--json", "--out", root.Sub("again"));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(check.GetProperty("sup_error").GetDouble(), again.Json.GetProperty("check").GetProperty("sup_error").GetDouble());
        Assert.False(again.Json.TryGetProperty("edge_popup", out _));
    }

    [Fact]
    public void Plant_cli_documents_its_options_refuses_bad_input_in_one_line_and_exits_6_when_the_ticket_misses_epsilon()
    {
        var help = CliRunner.Run("plant", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var o in new[] { "--architecture", "--epsilon", "--delta", "--c", "--sigma-w", "--grid-points", "--samples", "--edge-popup-epochs",
            "--skip-edge-popup", "--edge-popup-samples", "--edge-popup-lr", "--target", "--seed", "--json", "--out" })
            Assert.Contains(o, help.Stdout);
        var line = CliRunner.AssertOneLineError(CliRunner.Run("plant", "--architecture", "2,x,1", "--out", root.Sub("a")));
        Assert.Contains("--architecture", line);
        Assert.Contains("--epsilon", CliRunner.AssertOneLineError(CliRunner.Run("plant", "--epsilon", "1.5", "--out", root.Sub("b"))));
        Assert.Contains("--skip-edge-popup", CliRunner.AssertOneLineError(CliRunner.Run("plant", "--architecture", "2,3,2", "--out", root.Sub("c"))));
        // Pools of one or two candidates cannot reach ε = 0.001: the check fails, the artefacts are still written.
        var dir = root.Sub("d");
        var r = CliRunner.Run("plant", "--c", "0.3", "--epsilon", "0.001", "--skip-edge-popup", "--grid-points", "21", "--json", "--out", dir);
        Assert.Contains("misses the bound", CliRunner.AssertOneLineError(r, exitCode: 6));
        Assert.False(r.Json.GetProperty("check").GetProperty("holds").GetBoolean());
        Assert.True(r.Json.GetProperty("check").GetProperty("sup_error").GetDouble() > 0.001);
        Assert.True(File.Exists(Path.Combine(dir, "summary.json")));
    }
}
