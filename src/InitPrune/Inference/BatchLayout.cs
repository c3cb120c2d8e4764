using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace InitPrune.Inference;

/// <summary>
/// Moves a batch between sample-major (<c>[batch, features]</c>, what callers pass and get) and feature-major
/// (<c>[features, batch]</c>, what <see cref="SparseKernels"/> multiply) layout. A plain copy: no bit changes.
/// </summary>
internal static class BatchLayout
{
    /// <summary>
    /// The columns <paramref name="pick"/> (all when null) of a row-major <c>[rows, columns]</c> matrix, transposed
    /// into <paramref name="t"/> as <c>[picked, rows]</c>: <c>t[u·rows + i] = a[i·columns + pick[u]]</c>. Rows go
    /// eight at a time, so each picked column is one contiguous store of eight values (an AVX2 gather when
    /// <paramref name="vectorize"/>). Going row by row instead stores at a stride of <c>rows</c> floats, which at
    /// 256 rows (1 KiB) lands every store of a row in the same few cache sets: several times slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe float[] Transpose(float[] a, int rows, int columns, int[]? pick, float[] t, bool vectorize = true)
    {
        int picked = pick?.Length ?? columns;
        if (a.Length < (long)rows * columns || t.Length < (long)rows * picked || 7L * columns > int.MaxValue)
            throw new ArgumentException($"shapes do not fit: {rows}×{columns} from {a.Length} values, {picked} columns into {t.Length}");
        bool gather = vectorize && Avx2.IsSupported;
        var offsets = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * columns;
        fixed (float* ap = a)
        fixed (float* tp = t)
        fixed (int* pp = pick)
        {
            for (int i0 = 0; i0 < rows; i0 += 8)
            {
                int m = Math.Min(8, rows - i0);
                float* block = ap + (long)i0 * columns, dst = tp + i0;
                if (gather && m == 8)
                    for (int u = 0; u < picked; u++, dst += rows) Avx2.GatherVector256(block + (pp is null ? u : pp[u]), offsets, 4).Store(dst);
                else
                    for (int u = 0; u < picked; u++, dst += rows)
                        for (int i = 0; i < m; i++) dst[i] = block[(long)i * columns + (pp is null ? u : pp[u])];
            }
        }
        return t;
    }
}
