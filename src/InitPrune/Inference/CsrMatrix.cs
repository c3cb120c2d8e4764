namespace InitPrune.Inference;

/// <summary>
/// A float32 matrix in compressed sparse row form, the layout of <c>torch.sparse_csr_tensor</c>: row <c>i</c>'s
/// entries are <c>Values[RowPointers[i]..RowPointers[i + 1]]</c> at columns <c>ColumnIndices[…]</c>, columns ascending
/// within a row, no explicit zeros (what <c>Tensor.to_sparse_csr()</c> gives for the dense matrix).
/// </summary>
public sealed class CsrMatrix
{
    public CsrMatrix(int rows, int columns, long[] rowPointers, long[] columnIndices, float[] values)
    {
        if (rows < 0 || columns < 0 || rowPointers.Length != rows + 1 || columnIndices.Length != values.Length
            || rowPointers[0] != 0 || rowPointers[rows] != values.Length)
            throw new Engine.InitPruneException($"impossible CSR matrix: {rows}×{columns} with {rowPointers.Length} row pointers, {columnIndices.Length} column indices and {values.Length} values");
        for (int i = 0; i < rows; i++)
        {
            if (rowPointers[i + 1] < rowPointers[i])
                throw new Engine.InitPruneException($"impossible CSR matrix: row pointer {i + 1} ({rowPointers[i + 1]}) is below row pointer {i} ({rowPointers[i]})");
            for (long k = rowPointers[i]; k < rowPointers[i + 1]; k++)
            {
                if (columnIndices[k] < 0 || columnIndices[k] >= columns || (k > rowPointers[i] && columnIndices[k] <= columnIndices[k - 1]))
                    throw new Engine.InitPruneException($"impossible CSR matrix: row {i} has column index {columnIndices[k]} out of order or outside 0..{columns - 1}");
            }
        }
        Rows = rows;
        Columns = columns;
        RowPointers = rowPointers;
        ColumnIndices = columnIndices;
        Values = values;
        Columns32 = Array.ConvertAll(columnIndices, c => (int)c);
        Pointers32 = Array.ConvertAll(rowPointers, p => checked((int)p));
    }

    public int Rows { get; }
    public int Columns { get; }
    public long[] RowPointers { get; }
    public long[] ColumnIndices { get; }
    public float[] Values { get; }
    public long Nnz => Values.Length;

    /// <summary>The column indices as int32 (half the memory traffic of the file's int64 ones), for the kernels.</summary>
    internal int[] Columns32 { get; }

    /// <summary>The row pointers as int32 (a .NET array holds under 2³¹ values), for the kernels.</summary>
    internal int[] Pointers32 { get; }

    /// <summary>The CSR form of a row-major <paramref name="rows"/> × <paramref name="columns"/> matrix (its nonzero entries).</summary>
    public static CsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns)
    {
        if (dense.Length != (long)rows * columns)
            throw new ArgumentException($"{dense.Length} values for a {rows}×{columns} matrix", nameof(dense));
        var pointers = new long[rows + 1];
        var cols = new List<long>();
        var values = new List<float>();
        for (int i = 0; i < rows; i++)
        {
            var row = dense.Slice(i * columns, columns);
            for (int j = 0; j < columns; j++)
            {
                if (row[j] == 0) continue;
                cols.Add(j);
                values.Add(row[j]);
            }
            pointers[i + 1] = values.Count;
        }
        return new CsrMatrix(rows, columns, pointers, [.. cols], [.. values]);
    }

    /// <summary>The row-major dense matrix.</summary>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (int i = 0; i < Rows; i++)
            for (long k = RowPointers[i]; k < RowPointers[i + 1]; k++)
                dense[(long)i * Columns + ColumnIndices[k]] = Values[k];
        return dense;
    }
}
