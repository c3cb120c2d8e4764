using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>Which code multiplies a layer's weights with a batch: InitPrune's own kernel or libtorch's.</summary>
public enum KernelKind
{
    /// <summary>The managed kernel of <see cref="SparseKernels"/> (AVX2/FMA when the CPU has them, else portable scalar FMA).</summary>
    Managed,

    /// <summary>libtorch: a sparse COO × dense product for CSR layers (TorchSharp 0.107 has no CSR constructor), a dense matmul for dense ones.</summary>
    Torch,
}

/// <summary>
/// Sparse × dense products for linear layers on feature-major activations: the batch is held as an
/// <c>[in, batch]</c> row-major array (one row per feature), so output row <c>i</c> is
/// <c>Σ_k W[i, c_k] · X[c_k, :] + b[i]</c>, a sum of contiguous scaled rows. Each row's sum runs over its entries in
/// column order with fused multiply-adds, so the vector path and the portable path give the same bits.
/// Rows are shared out over threads.
/// </summary>
public static class SparseKernels
{
    const int Tile = 4 * 8;

    /// <summary>Whether the vector path runs here (AVX2 with FMA, 256-bit vectors).</summary>
    public static bool Vectorized => Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>
    /// <paramref name="y"/> (<c>[w.Rows, batch]</c>) = <paramref name="w"/> · <paramref name="x"/> (<c>[w.Columns, batch]</c>)
    /// + <paramref name="bias"/> per row; <paramref name="vectorize"/> false forces the portable path.
    /// </summary>
    public static void Multiply(CsrMatrix w, float[]? bias, float[] x, int batch, float[] y, bool vectorize = true)
    {
        Check(w.Rows, w.Columns, bias, x, batch, y);
        Rows(w.Rows, i =>
        {
            int begin = (int)w.RowPointers[i], end = (int)w.RowPointers[i + 1];
            Row(w.ColumnIndices.AsSpan(begin, end - begin), w.Values.AsSpan(begin, end - begin), bias?[i] ?? 0f, x, batch, y.AsSpan(i * batch, batch), vectorize);
        });
    }

    /// <summary>As the CSR product, for a dense row-major <c>[rows, columns]</c> weight.</summary>
    public static void Multiply(float[] w, int rows, int columns, float[]? bias, float[] x, int batch, float[] y, bool vectorize = true)
    {
        Check(rows, columns, bias, x, batch, y);
        if (w.Length != (long)rows * columns) throw new ArgumentException($"{w.Length} weights for a {rows}×{columns} layer", nameof(w));
        var all = new long[columns];
        for (int j = 0; j < columns; j++) all[j] = j;
        Rows(rows, i => Row(all, w.AsSpan(i * columns, columns), bias?[i] ?? 0f, x, batch, y.AsSpan(i * batch, batch), vectorize));
    }

    static void Check(int rows, int columns, float[]? bias, float[] x, int batch, float[] y)
    {
        if (x.Length != (long)columns * batch || y.Length != (long)rows * batch || (bias is not null && bias.Length != rows))
            throw new ArgumentException($"shapes do not fit: weight {rows}×{columns}, input {x.Length}, output {y.Length}, batch {batch}, bias {bias?.Length}");
    }

    static void Rows(int rows, Action<int> row)
    {
        int chunk = Math.Max(1, rows / (Environment.ProcessorCount * 4));
        Parallel.For(0, (rows + chunk - 1) / chunk, c =>
        {
            int end = Math.Min(rows, (c + 1) * chunk);
            for (int i = c * chunk; i < end; i++) row(i);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row(ReadOnlySpan<long> cols, ReadOnlySpan<float> vals, float b, float[] x, int batch, Span<float> y, bool vectorize)
    {
        int t = 0;
        if (vectorize && Vectorized)
        {
            ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
            ref float yr = ref MemoryMarshal.GetReference(y);
            var bv = Vector256.Create(b);
            for (; t + Tile <= batch; t += Tile)
            {
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                for (int k = 0; k < cols.Length; k++)
                {
                    var wv = Vector256.Create(vals[k]);
                    nuint o = (nuint)(cols[k] * batch + t);
                    a0 = Fma.MultiplyAdd(wv, Vector256.LoadUnsafe(ref xr, o), a0);
                    a1 = Fma.MultiplyAdd(wv, Vector256.LoadUnsafe(ref xr, o + 8), a1);
                    a2 = Fma.MultiplyAdd(wv, Vector256.LoadUnsafe(ref xr, o + 16), a2);
                    a3 = Fma.MultiplyAdd(wv, Vector256.LoadUnsafe(ref xr, o + 24), a3);
                }
                (a0 + bv).StoreUnsafe(ref yr, (nuint)t);
                (a1 + bv).StoreUnsafe(ref yr, (nuint)t + 8);
                (a2 + bv).StoreUnsafe(ref yr, (nuint)t + 16);
                (a3 + bv).StoreUnsafe(ref yr, (nuint)t + 24);
            }
            for (; t + 8 <= batch; t += 8)
            {
                var a = Vector256<float>.Zero;
                for (int k = 0; k < cols.Length; k++)
                    a = Fma.MultiplyAdd(Vector256.Create(vals[k]), Vector256.LoadUnsafe(ref xr, (nuint)(cols[k] * batch + t)), a);
                (a + bv).StoreUnsafe(ref yr, (nuint)t);
            }
        }
        for (; t < batch; t++)
        {
            float a = 0f;
            for (int k = 0; k < cols.Length; k++)
                a = MathF.FusedMultiplyAdd(vals[k], x[cols[k] * batch + t], a);
            y[t] = a + b;
        }
    }
}

/// <summary>One linear layer held by libtorch: a sparse COO weight (from CSR) or a dense one, and the bias as a column.</summary>
public sealed class TorchLinear : IDisposable
{
    readonly Tensor weight;
    readonly Tensor? bias;

    public TorchLinear(SparseLayer layer)
    {
        Rows = layer.OutFeatures;
        Columns = layer.InFeatures;
        if (layer.Csr is { } csr)
        {
            var rowOf = new long[csr.Nnz];
            for (int i = 0; i < csr.Rows; i++)
                for (long k = csr.RowPointers[i]; k < csr.RowPointers[i + 1]; k++) rowOf[k] = i;
            using var rows = torch.tensor(rowOf);
            using var cols = torch.tensor(csr.ColumnIndices);
            using var indices = torch.stack([rows, cols]);
            using var values = torch.tensor(csr.Values);
            weight = torch.sparse_coo_tensor(indices, values, [Rows, Columns]);
        }
        else
        {
            weight = torch.tensor(layer.Dense!, [Rows, Columns]);
        }
        bias = layer.Bias is { } b ? torch.tensor(b, [Rows, 1]) : null;
    }

    public int Rows { get; }
    public int Columns { get; }

    /// <summary>As <see cref="SparseKernels.Multiply(CsrMatrix, float[], float[], int, float[], bool)"/>, by libtorch.</summary>
    public void Multiply(float[] x, int batch, float[] y)
    {
        using var scope = NewDisposeScope();
        var input = torch.tensor(x, [Columns, batch]);
        var output = weight.matmul(input);
        if (bias is not null) output = output.add(bias);
        output.contiguous().data<float>().CopyTo(y);
    }

    public void Dispose()
    {
        weight.Dispose();
        bias?.Dispose();
    }
}
