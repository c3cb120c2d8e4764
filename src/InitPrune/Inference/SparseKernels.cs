using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using InitPrune.Engine;
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
/// column order with fused multiply-adds, so the vector path and the portable path give the same bits, and so does
/// any thread count: threads only share out whole rows. Layers below <see cref="ParallelWork"/> multiply-adds run on
/// the calling thread (a batch-1 product of a pruned layer is a few microseconds, less than waking a thread pool).
/// </summary>
public static class SparseKernels
{
    const int Tile = 4 * 8;

    /// <summary>
    /// Multiply-adds (kept weights × batch) below which a layer runs on one thread. Measured on the development
    /// machine, handing rows to <c>Parallel.For</c> costs about 5–20 µs, the time of some 2¹⁵ multiply-adds here.
    /// </summary>
    public const long ParallelWork = 1 << 15;

    /// <summary>Whether the vector path runs here (AVX2 with FMA, 256-bit vectors).</summary>
    public static bool Vectorized => Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>
    /// <paramref name="y"/> (<c>[w.Rows, batch]</c>) = <paramref name="w"/> · <paramref name="x"/> (<c>[w.Columns, batch]</c>)
    /// + <paramref name="bias"/> per row, then max(·, 0) if <paramref name="relu"/> (<c>s &gt; 0 ? s : 0</c>, fused into the
    /// store); <paramref name="vectorize"/> false forces the portable path; <paramref name="threads"/> caps the threads
    /// (0: all cores), which changes no bit of the result.
    /// </summary>
    public static void Multiply(CsrMatrix w, float[]? bias, float[] x, int batch, float[] y, bool vectorize = true, int threads = 0, bool relu = false)
    {
        Check(w.Rows, w.Columns, bias, x, batch, y);
        int max = Threads(threads);
        if (max == 1 || w.Nnz * batch < ParallelWork || w.Rows < 2) CsrRows(w, bias, x, batch, y, vectorize, relu, 0, w.Rows);
        else Parallel(w.Rows, max, (begin, end) => CsrRows(w, bias, x, batch, y, vectorize, relu, begin, end));
    }

    /// <summary>As the CSR product, for a dense row-major <c>[rows, columns]</c> weight.</summary>
    public static void Multiply(float[] w, int rows, int columns, float[]? bias, float[] x, int batch, float[] y, bool vectorize = true, int threads = 0, bool relu = false)
    {
        Check(rows, columns, bias, x, batch, y);
        if (w.Length != (long)rows * columns) throw new ArgumentException($"{w.Length} weights for a {rows}×{columns} layer", nameof(w));
        int max = Threads(threads);
        if (max == 1 || (long)w.Length * batch < ParallelWork || rows < 2) DenseRows(w, columns, bias, x, batch, y, vectorize, relu, 0, rows);
        else Parallel(rows, max, (begin, end) => DenseRows(w, columns, bias, x, batch, y, vectorize, relu, begin, end));
    }

    static int Threads(int threads) =>
        threads >= 0 ? (threads == 0 ? Environment.ProcessorCount : threads) : throw new ArgumentOutOfRangeException(nameof(threads), threads, "0 (all cores) or more");

    static void Check(int rows, int columns, float[]? bias, float[] x, int batch, float[] y)
    {
        // Longer arrays are allowed (reused scratch buffers): only the first columns·batch and rows·batch entries count.
        if (x.Length < (long)columns * batch || y.Length < (long)rows * batch || (bias is not null && bias.Length != rows))
            throw new ArgumentException($"shapes do not fit: weight {rows}×{columns}, input {x.Length}, output {y.Length}, batch {batch}, bias {bias?.Length}");
    }

    /// <summary>Rows in contiguous chunks, four per thread, on at most <paramref name="threads"/> threads.</summary>
    static void Parallel(int rows, int threads, Action<int, int> range)
    {
        int chunks = Math.Min(rows, threads * 4);
        System.Threading.Tasks.Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads },
            c => range((int)((long)rows * c / chunks), (int)((long)rows * (c + 1) / chunks)));
    }

    /// <summary>Rows <paramref name="begin"/>…<paramref name="end"/> of a CSR product; every array is pinned once for the whole range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void CsrRows(CsrMatrix w, float[]? bias, float[] x, int batch, float[] y, bool vectorize, bool relu, int begin, int end)
    {
        fixed (int* pointers = w.Pointers32)
        fixed (int* cols = w.Columns32)
        fixed (float* vals = w.Values)
        fixed (float* xp = x)
        fixed (float* yp = y)
        fixed (float* bp = bias)
        {
            for (int i = begin; i < end; i++)
            {
                int b = pointers[i], n = pointers[i + 1] - b;
                float bi = bp is null ? 0f : bp[i];
                if (batch == 1) yp[i] = Out(Dot(cols + b, vals + b, n, xp) + bi, relu);
                else Row(cols + b, vals + b, n, bi, xp, batch, yp + (long)i * batch, vectorize, relu);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void DenseRows(float[] w, int columns, float[]? bias, float[] x, int batch, float[] y, bool vectorize, bool relu, int begin, int end)
    {
        var all = batch == 1 ? [] : Enumerable.Range(0, columns).ToArray();
        fixed (int* cols = all)
        fixed (float* wp = w)
        fixed (float* xp = x)
        fixed (float* yp = y)
        fixed (float* bp = bias)
        {
            for (int i = begin; i < end; i++)
            {
                float bi = bp is null ? 0f : bp[i];
                if (batch == 1) yp[i] = Out(DenseDot(wp + (long)i * columns, columns, xp) + bi, relu);
                else Row(cols, wp + (long)i * columns, columns, bi, xp, batch, yp + (long)i * batch, vectorize, relu);
            }
        }
    }

    /// <summary>
    /// Batch 1: Σ_k v[k] · x[c[k]] as eight fused multiply-add chains (chain r takes entries k ≡ r mod 8, in
    /// order), added as ((s₀ + s₁) + (s₂ + s₃)) + ((s₄ + s₅) + (s₆ + s₇)): one fixed order whatever the threads or the
    /// CPU, and eight independent chains hide the FMA latency. (An AVX2 gather of x was no faster when measured.)
    /// Batched rows sum in entry order instead, so a sample's logits at batch 1 can differ from its logits in a batch
    /// in the last bits. No bounds checks: <see cref="CsrMatrix"/> checked every column and <see cref="Check"/> the
    /// input's length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe float Dot(int* c, float* v, int n, float* xp)
    {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        int k = 0;
        for (; k + 8 <= n; k += 8)
        {
            s0 = MathF.FusedMultiplyAdd(v[k], xp[c[k]], s0);
            s1 = MathF.FusedMultiplyAdd(v[k + 1], xp[c[k + 1]], s1);
            s2 = MathF.FusedMultiplyAdd(v[k + 2], xp[c[k + 2]], s2);
            s3 = MathF.FusedMultiplyAdd(v[k + 3], xp[c[k + 3]], s3);
            s4 = MathF.FusedMultiplyAdd(v[k + 4], xp[c[k + 4]], s4);
            s5 = MathF.FusedMultiplyAdd(v[k + 5], xp[c[k + 5]], s5);
            s6 = MathF.FusedMultiplyAdd(v[k + 6], xp[c[k + 6]], s6);
            s7 = MathF.FusedMultiplyAdd(v[k + 7], xp[c[k + 7]], s7);
        }
        if (k < n) s0 = MathF.FusedMultiplyAdd(v[k], xp[c[k]], s0);
        if (k + 1 < n) s1 = MathF.FusedMultiplyAdd(v[k + 1], xp[c[k + 1]], s1);
        if (k + 2 < n) s2 = MathF.FusedMultiplyAdd(v[k + 2], xp[c[k + 2]], s2);
        if (k + 3 < n) s3 = MathF.FusedMultiplyAdd(v[k + 3], xp[c[k + 3]], s3);
        if (k + 4 < n) s4 = MathF.FusedMultiplyAdd(v[k + 4], xp[c[k + 4]], s4);
        if (k + 5 < n) s5 = MathF.FusedMultiplyAdd(v[k + 5], xp[c[k + 5]], s5);
        if (k + 6 < n) s6 = MathF.FusedMultiplyAdd(v[k + 6], xp[c[k + 6]], s6);
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /// <summary>Batch 1 for a dense row: four fused multiply-add chains over the columns (k ≡ r mod 4), added as (s₀ + s₁) + (s₂ + s₃).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe float DenseDot(float* w, int n, float* xs)
    {
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
        int k = 0;
        for (; k + 4 <= n; k += 4)
        {
            a0 = MathF.FusedMultiplyAdd(w[k], xs[k], a0);
            a1 = MathF.FusedMultiplyAdd(w[k + 1], xs[k + 1], a1);
            a2 = MathF.FusedMultiplyAdd(w[k + 2], xs[k + 2], a2);
            a3 = MathF.FusedMultiplyAdd(w[k + 3], xs[k + 3], a3);
        }
        if (k < n) a0 = MathF.FusedMultiplyAdd(w[k], xs[k], a0);
        if (k + 1 < n) a1 = MathF.FusedMultiplyAdd(w[k + 1], xs[k + 1], a1);
        if (k + 2 < n) a2 = MathF.FusedMultiplyAdd(w[k + 2], xs[k + 2], a2);
        return (a0 + a1) + (a2 + a3);
    }

    /// <summary>
    /// One output row of a batch: every sample's sum is one fused multiply-add chain over the entries in order, 32
    /// samples per step in four vectors, then 8, then the last 1–7 with masked loads and stores (each lane is the same
    /// chain as the portable loop's, so the bits are the same).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Row(int* cols, float* vals, int n, float b, float* xp, int batch, float* yp, bool vectorize, bool relu)
    {
        int t = 0;
        if (vectorize && Vectorized)
        {
            var bv = Vector256.Create(b);
            for (; t + Tile <= batch; t += Tile)
            {
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                for (int k = 0; k < n; k++)
                {
                    var wv = Vector256.Create(vals[k]);
                    float* o = xp + ((long)cols[k] * batch + t);
                    a0 = Fma.MultiplyAdd(wv, Avx.LoadVector256(o), a0);
                    a1 = Fma.MultiplyAdd(wv, Avx.LoadVector256(o + 8), a1);
                    a2 = Fma.MultiplyAdd(wv, Avx.LoadVector256(o + 16), a2);
                    a3 = Fma.MultiplyAdd(wv, Avx.LoadVector256(o + 24), a3);
                }
                Avx.Store(yp + t, Out(a0 + bv, relu));
                Avx.Store(yp + t + 8, Out(a1 + bv, relu));
                Avx.Store(yp + t + 16, Out(a2 + bv, relu));
                Avx.Store(yp + t + 24, Out(a3 + bv, relu));
            }
            for (; t + 8 <= batch; t += 8)
            {
                var a = Vector256<float>.Zero;
                for (int k = 0; k < n; k++)
                    a = Fma.MultiplyAdd(Vector256.Create(vals[k]), Avx.LoadVector256(xp + ((long)cols[k] * batch + t)), a);
                Avx.Store(yp + t, Out(a + bv, relu));
            }
            if (t < batch)
            {
                var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(batch - t)).AsSingle();
                var a = Vector256<float>.Zero;
                for (int k = 0; k < n; k++)
                    a = Fma.MultiplyAdd(Vector256.Create(vals[k]), Avx.MaskLoad(xp + ((long)cols[k] * batch + t), mask), a);
                Avx.MaskStore(yp + t, mask, Out(a + bv, relu));
                t = batch;
            }
        }
        for (; t < batch; t++)
        {
            float a = 0f;
            for (int k = 0; k < n; k++)
                a = MathF.FusedMultiplyAdd(vals[k], xp[(long)cols[k] * batch + t], a);
            yp[t] = Out(a + b, relu);
        }
    }

    /// <summary>The stored value: <paramref name="s"/>, or ReLU's <c>s &gt; 0 ? s : 0</c> (NaN and −0 give +0, as <c>maxps(s, 0)</c> does).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Out(float s, bool relu) => relu && !(s > 0) ? 0f : s;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Out(Vector256<float> s, bool relu) => relu ? Avx.Max(s, Vector256<float>.Zero) : s;
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

    /// <summary>As <see cref="SparseKernels.Multiply(CsrMatrix, float[], float[], int, float[], bool, int, bool)"/>, by libtorch.</summary>
    public void Multiply(float[] x, int batch, float[] y)
    {
        using var scope = NewDisposeScope();
        var input = torch.tensor(x, [Columns, batch]);
        var output = weight.matmul(input);
        if (bias is not null) output = output.add(bias, Scalars.One);
        output.contiguous().data<float>().CopyTo(y);
    }

    public void Dispose()
    {
        weight.Dispose();
        bias?.Dispose();
    }
}
