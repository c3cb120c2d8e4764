using InitPrune.Engine;
using InitPrune.Inference;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Inference;

/// <summary>The sparse model: CSR layout, kernels, dead-unit removal (with bias folding) and the file, on small hand-made nets.</summary>
public class SparseModelTests
{
    static float[] RandomSparse(int rows, int cols, double density, int seed)
    {
        var rng = new Random(seed);
        var a = new float[rows * cols];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() < density ? (float)(rng.NextDouble() * 2 - 1) : 0f;
        return a;
    }

    [Fact]
    public void Csr_layout_equals_libtorchs_sparse_layout_of_the_same_matrix()
    {
        var dense = RandomSparse(9, 13, 0.3, 1);
        Array.Clear(dense, 2 * 13, 13); // an empty row
        var csr = CsrMatrix.FromDense(dense, 9, 13);
        using var t = torch.tensor(dense, [9, 13]);
        using var coo = t.to_sparse();
        using var indices = coo.SparseIndices;
        using var values = coo.SparseValues;
        var rows = indices[0].data<long>().ToArray();
        var cols = indices[1].data<long>().ToArray();
        var rowOf = Enumerable.Range(0, 9).SelectMany(i => Enumerable.Repeat((long)i, (int)(csr.RowPointers[i + 1] - csr.RowPointers[i]))).ToArray();
        Assert.Equal(rows, rowOf);
        Assert.Equal(cols, csr.ColumnIndices);
        Assert.Equal(values.data<float>().ToArray(), csr.Values);
        Assert.Equal(csr.RowPointers[2], csr.RowPointers[3]);
        Assert.Equal(dense, csr.ToDense());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(37)]
    [InlineData(70)]
    public void Managed_kernels_agree_with_libtorch_and_the_vector_path_with_the_portable_one(int batch)
    {
        const int rows = 23, cols = 41;
        var w = RandomSparse(rows, cols, 0.2, batch);
        var x = RandomSparse(cols, batch, 1.0, 100 + batch);
        var bias = RandomSparse(rows, 1, 1.0, 7);
        var csr = CsrMatrix.FromDense(w, rows, cols);
        float[] Run(Action<float[]> f)
        {
            var y = new float[rows * batch];
            f(y);
            return y;
        }
        var vector = Run(y => SparseKernels.Multiply(csr, bias, x, batch, y));
        var portable = Run(y => SparseKernels.Multiply(csr, bias, x, batch, y, vectorize: false));
        var denseKernel = Run(y => SparseKernels.Multiply(w, rows, cols, bias, x, batch, y));
        Assert.Equal(portable, vector); // the same fused multiply-adds in the same order: the same bits
        if (batch > 1) Assert.Equal(vector, denseKernel); // zeros add exactly nothing in one chain per sample
        else for (int i = 0; i < rows; i++) Assert.Equal(vector[i], denseKernel[i], 1e-5f); // batch 1 splits the sum into four chains by entry, not by column
        using var layer = new TorchLinear(new SparseLayer("l", cols, rows, csr, null, bias, [.. Enumerable.Range(0, rows)], rows));
        var viaTorch = Run(y => layer.Multiply(x, batch, y));
        using var reference = torch.tensor(w, [rows, cols]).matmul(torch.tensor(x, [cols, batch])).add(torch.tensor(bias, [rows, 1]));
        var expected = reference.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], vector[i], 1e-5f);
            Assert.Equal(expected[i], viaTorch[i], 1e-5f);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(77)]
    public void Thread_counts_change_no_bit_of_the_managed_kernels(int batch)
    {
        const int rows = 300, cols = 784; // 300·784·0.3 ≈ 70k multiply-adds: above ParallelWork even at batch 1
        var w = RandomSparse(rows, cols, 0.3, batch);
        var x = RandomSparse(cols, batch, 1.0, 200 + batch);
        var bias = RandomSparse(rows, 1, 1.0, 9);
        var csr = CsrMatrix.FromDense(w, rows, cols);
        Assert.True(csr.Nnz * batch >= SparseKernels.ParallelWork);
        float[] Csr(int threads, bool vectorize = true)
        {
            var y = new float[rows * batch];
            SparseKernels.Multiply(csr, bias, x, batch, y, vectorize, threads);
            return y;
        }
        float[] Dense(int threads)
        {
            var y = new float[rows * batch];
            SparseKernels.Multiply(w, rows, cols, bias, x, batch, y, threads: threads);
            return y;
        }
        var one = Csr(1);
        foreach (var t in new[] { 2, 3, 7, 0 }) Assert.Equal(one, Csr(t));
        Assert.Equal(one, Csr(3, vectorize: false));
        var denseOne = Dense(1);
        foreach (var t in new[] { 2, 5, 0 }) Assert.Equal(denseOne, Dense(t));
        using var reference = torch.tensor(w, [rows, cols]).matmul(torch.tensor(x, [cols, batch])).add(torch.tensor(bias, [rows, 1]));
        var expected = reference.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], one[i], 1e-3f);
    }

    /// <summary>ReLU as defined before any vector code: <c>v &gt; 0 ? v : 0</c> (NaN and −0 give +0).</summary>
    static float Relu(float v) => v > 0 ? v : 0f;

    static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);

    /// <summary>A random <paramref name="rows"/> × <paramref name="cols"/> CSR matrix with rows 0 and 3 empty.</summary>
    static CsrMatrix RandomCsr(int rows, int cols, double density, int seed)
    {
        var w = RandomSparse(rows, cols, density, seed);
        Array.Clear(w, 0, cols);
        Array.Clear(w, 3 * cols, cols);
        return CsrMatrix.FromDense(w, rows, cols);
    }

    [Fact]
    public void Relu_in_place_is_the_scalar_definition_bit_for_bit()
    {
        float[] values = [float.NaN, -0f, 0f, float.NegativeInfinity, float.PositiveInfinity, -1e-45f, 1e-45f, -2.5f, 3.5f, .. RandomSparse(1, 30, 1.0, 4)];
        var got = (float[])values.Clone();
        SparseModel.Activate(got, "relu");
        Assert.Equal(Bits(Array.ConvertAll(values, Relu)), Bits(got));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(33)]
    [InlineData(256)]
    public void Fused_relu_gives_the_bits_of_the_product_then_relu(int batch)
    {
        const int rows = 40, cols = 300;
        var csr = RandomCsr(rows, cols, 0.05, batch);
        var w = csr.ToDense();
        var x = RandomSparse(cols, batch, 1.0, 300 + batch);
        for (int i = 0; i < x.Length; i++) x[i] -= 0.5f; // mixed signs: about half the outputs are negative
        var bias = RandomSparse(rows, 1, 1.0, 11);
        bias[0] = float.NaN; // an empty row: NaN, which ReLU makes +0
        bias[3] = -0f;       // an empty row: 0 + −0 = +0
        var plain = new float[rows * batch];
        SparseKernels.Multiply(csr, bias, x, batch, plain, vectorize: false, threads: 1);
        var expected = Bits(Array.ConvertAll(plain, Relu));
        foreach (var vectorize in new[] { true, false })
        {
            foreach (var threads in new[] { 1, 2 })
            {
                var y = new float[rows * batch];
                SparseKernels.Multiply(csr, bias, x, batch, y, vectorize, threads, relu: true);
                Assert.Equal(expected, Bits(y));
                SparseKernels.Multiply(w, rows, cols, bias, x, batch, y, vectorize, threads, relu: true);
                if (batch > 1) Assert.Equal(expected, Bits(y)); // zeros add exactly nothing in one chain per sample
            }
        }
    }

    [Theory]
    [InlineData(1, "relu")]
    [InlineData(7, "relu")]
    [InlineData(8, "tanh")]
    [InlineData(33, "relu")]
    [InlineData(256, "relu")]
    [InlineData(256, "tanh")]
    public void Forward_gives_the_bits_of_transposing_and_multiplying_layer_by_layer(int batch, string activation)
    {
        // 784-40-30-10 at 3% density: most inputs unused, rows 0 and 3 of every layer empty.
        int[] widths = [784, 40, 30, 10];
        var layers = Enumerable.Range(0, 3).Select(l =>
        {
            var csr = RandomCsr(widths[l + 1], widths[l], l == 0 ? 0.03 : 0.2, 50 + l);
            return new SparseLayer($"layers.{2 * l}", widths[l], widths[l + 1], csr, null, RandomSparse(widths[l + 1], 1, 1.0, 60 + l), [.. Enumerable.Range(0, widths[l + 1])], widths[l + 1]);
        }).ToList();
        var model = new SparseModel("mlp", activation, [784], layers);
        var inputs = RandomSparse(batch, 784, 1.0, batch);
        for (int i = 0; i < inputs.Length; i++) inputs[i] -= 0.5f;

        // The reference: feature-major by definition, the portable kernel on each whole layer, then the activation.
        var x = new float[784 * batch];
        for (int t = 0; t < batch; t++)
            for (int j = 0; j < 784; j++) x[j * batch + t] = inputs[t * 784 + j];
        for (int l = 0; l < 3; l++)
        {
            var y = new float[widths[l + 1] * batch];
            SparseKernels.Multiply(layers[l].Csr!, layers[l].Bias, x, batch, y, vectorize: false, threads: 1);
            if (l < 2 && activation == "relu") y = Array.ConvertAll(y, Relu);
            else if (l < 2) SparseModel.Activate(y, activation);
            x = y;
        }
        var expected = new float[batch * 10];
        for (int t = 0; t < batch; t++)
            for (int o = 0; o < 10; o++) expected[t * 10 + o] = x[o * batch + t];

        foreach (var vectorize in new[] { true, false })
            foreach (var threads in new[] { 1, 2 })
                Assert.Equal(Bits(expected), Bits(model.Forward(inputs, batch, vectorize: vectorize, threads: threads)));
    }

    /// <summary>A 6-5-4-3 MLP whose masks leave dead units; the masked weights are written into the model.</summary>
    static (nn.Module<Tensor, Tensor> Model, Dictionary<string, Tensor> Masks) DeadUnitNet(string activation, bool bias)
    {
        var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [5, 4], Activation: activation, Bias: bias), 6, 3);
        Initializers.Apply(model, new InitSpec("normal", 1.5, 0.5), 3);
        var masks = Network.StateDict(model).Where(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => torch.ones_like(kv.Value, dtype: ScalarType.Bool));
        masks["layers.0.weight"][1] = false;           // unit 1 of layer 0: no incoming weight (outputs φ(b₁))
        masks["layers.2.weight"][.., 3] = false;       // unit 3 of layer 0: no outgoing weight
        masks["layers.4.weight"][.., 2] = false;       // unit 2 of layer 2: no outgoing weight ...
        masks["layers.2.weight"][.., 0] = false;       // ... and unit 0 of layer 0 fed only unit 2 of layer 2,
        masks["layers.2.weight"][2, 0] = true;         //     so it dies once unit 2 is gone
        using (torch.no_grad())
        {
            foreach (var (name, m) in masks) Network.StateDict(model)[name].mul_(m);
        }
        return (model, masks);
    }

    static float[] Dense(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        using var _ = torch.no_grad();
        model.eval();
        using var y = model.forward(x);
        return y.data<float>().ToArray();
    }

    [Theory]
    [InlineData("tanh", true, 1)]     // φ(b₁) ≠ 0 folds into the next bias
    [InlineData("sigmoid", false, 1)] // no biases, but φ(0) = 1/2: the next layer gains a bias
    [InlineData("relu", false, 0)]    // φ(0) = 0: nothing to fold, no bias appears
    public void Dead_units_are_removed_and_constant_units_folded_into_the_next_bias(string activation, bool bias, int folded)
    {
        var (model, masks) = DeadUnitNet(activation, bias);
        using var _ = model;
        var (sparse, report) = SparseExport.Compact(Network.StateDict(model), masks, "mlp", activation, denseAbove: 0.5);

        Assert.Equal([3, 1, 0], report.Select(l => l.UnitsRemoved));
        Assert.Equal([2, 4], sparse.Layers[0].KeptUnits);
        Assert.Equal([0, 1, 3], sparse.Layers[1].KeptUnits);
        Assert.Equal([(2, 6), (3, 2), (3, 3)], sparse.Layers.Select(l => (l.OutFeatures, l.InFeatures)));
        Assert.Equal(folded, report[1].BiasesFolded);
        Assert.Equal(bias || folded > 0, sparse.Layers[1].Bias is not null);
        Assert.Equal(bias, sparse.Layers[0].Bias is not null);

        using var x = torch.randn(50, 6, generator: new torch.Generator(5));
        var expected = Dense(model, x);
        var inputs = x.data<float>().ToArray();
        using var torchLayers = new DisposableList<TorchLinear>(sparse.ToTorch());
        foreach (var kernels in new[] { KernelKind.Managed, KernelKind.Torch })
        {
            var got = sparse.Forward(inputs, 50, [.. sparse.Layers.Select(_ => kernels)], torchLayers.Items);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], got[i], 1e-5f);
        }
    }

    [Fact]
    public void The_file_holds_the_model_and_nothing_else_passes_for_one()
    {
        var (model, masks) = DeadUnitNet("tanh", true);
        using var _ = model;
        using var dir = new TempDir();
        masks["layers.0.weight"][2, ..3] = false; // layer 0 at density 0.75: CSR; the others stay full: dense
        var (sparse, _) = SparseExport.Compact(Network.StateDict(model), masks, "mlp", "tanh", [2, 3], denseAbove: 0.8);
        var path = dir.File("m.sparse.safetensors");
        sparse.Save(path);
        var back = SparseModel.Load(path);
        Assert.Equal([2L, 3], back.InputShape);
        Assert.Equal("tanh", back.Activation);
        Assert.Equal(sparse.Layers.Select(l => l.IsCsr), back.Layers.Select(l => l.IsCsr));
        for (int l = 0; l < sparse.Layers.Count; l++)
        {
            Assert.Equal(sparse.Layers[l].DenseWeight(), back.Layers[l].DenseWeight());
            Assert.Equal(sparse.Layers[l].Bias, back.Layers[l].Bias);
            Assert.Equal(sparse.Layers[l].KeptUnits, back.Layers[l].KeptUnits);
        }
        var (tensors, meta) = Safetensors.LoadWithMetadata(path);
        using (tensors)
        {
            var csr = sparse.Layers.First(l => l.IsCsr).Name;
            var dense = sparse.Layers.First(l => !l.IsCsr).Name;
            Assert.Equal(ScalarType.Int64, tensors[$"{csr}.crow_indices"].dtype);
            Assert.Equal(ScalarType.Int64, tensors[$"{csr}.col_indices"].dtype);
            Assert.Equal(ScalarType.Float32, tensors[$"{csr}.values"].dtype);
            Assert.False(tensors.ContainsKey($"{csr}.weight"));
            Assert.Equal(2, tensors[$"{dense}.weight"].dim());
            Assert.Equal("initprune-sparse", meta["format"]);
        }
        var plain = dir.File("plain.safetensors");
        Safetensors.Save(plain, Network.StateDict(model));
        var e = Assert.Throws<InitPruneException>(() => SparseModel.Load(plain));
        Assert.Contains("not a sparse model file", e.Message);
    }

    [Fact]
    public void Export_refuses_what_is_not_an_mlp_in_one_line()
    {
        var (model, masks) = DeadUnitNet("relu", true);
        using var _ = model;
        var w = Network.StateDict(model);
        Assert.Contains("not part of a vgg11", Assert.Throws<InitPruneException>(() => SparseExport.Compact(w, masks, "vgg11")).Message);
        Assert.Contains("resnet20", Assert.Throws<InitPruneException>(() => SparseExport.Compact(w, masks, "resnet20")).Message);
        Assert.Contains("LeNet-300-100", Assert.Throws<InitPruneException>(() => SparseExport.Compact(w, masks, "lenet300")).Message);
        using var extra = torch.zeros(3);
        var withBn = new Dictionary<string, Tensor>(w) { ["bn.weight"] = extra };
        Assert.Contains("bn.weight", Assert.Throws<InitPruneException>(() => SparseExport.Compact(withBn, null)).Message);
        using var wrong = torch.ones(2, 2, dtype: ScalarType.Bool);
        Assert.Contains("mask", Assert.Throws<InitPruneException>(() => SparseExport.Compact(w, new Dictionary<string, Tensor> { ["layers.0.weight"] = wrong })).Message);
    }
}

/// <summary>Disposes every item with the list.</summary>
internal sealed class DisposableList<T>(List<T> items) : IDisposable where T : IDisposable
{
    public List<T> Items { get; } = items;

    public void Dispose()
    {
        foreach (var i in Items) i.Dispose();
    }
}
