using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>The random subset-sum problem behind seed 004 Theorem 5 (Lueker 1998, via Pensia et al. 2020).</summary>
public static class SubsetSum
{
    /// <summary>Largest item count <see cref="BestError"/> accepts (two halves of 2^20 sums).</summary>
    public const int MaxItems = 40;

    /// <summary>min over subsets S (the empty one included) of |target − Σ_{i∈S} items_i|, exactly, by meet in the middle.</summary>
    public static double BestError(IReadOnlyList<double> items, double target)
    {
        if (items.Count > MaxItems)
            throw new InitPruneException($"{items.Count} items are too many for exact subset sums; use at most {MaxItems}");
        var left = Sums(items.Take(items.Count / 2).ToArray());
        var right = Sums(items.Skip(items.Count / 2).ToArray());
        Array.Sort(right);
        double best = double.PositiveInfinity;
        foreach (double s in left)
        {
            double need = target - s;
            int i = Array.BinarySearch(right, need);
            if (i >= 0) return 0;
            i = ~i;
            if (i < right.Length) best = Math.Min(best, right[i] - need);
            if (i > 0) best = Math.Min(best, need - right[i - 1]);
        }
        return best;
    }

    /// <summary>
    /// The subset behind <see cref="BestError"/>: the indices S (ascending, possibly empty) minimizing |target − Σ_{i∈S} items_i|
    /// and that error, by meet in the middle (ties go to the smaller bit masks, so the answer is deterministic).
    /// </summary>
    public static (double Error, int[] Subset) BestSubset(IReadOnlyList<double> items, double target)
    {
        if (items.Count > MaxItems)
            throw new InitPruneException($"{items.Count} items are too many for exact subset sums; use at most {MaxItems}");
        int half = items.Count / 2;
        var left = Sums(items.Take(half).ToArray());
        var right = Sums(items.Skip(half).ToArray());
        var order = Enumerable.Range(0, right.Length).ToArray();
        var sorted = (double[])right.Clone();
        Array.Sort(sorted, order);
        var (best, bestLeft, bestRight) = (double.PositiveInfinity, 0, 0);
        for (int m = 0; m < left.Length; m++)
        {
            double need = target - left[m];
            int i = Array.BinarySearch(sorted, need);
            if (i < 0) i = ~i;
            foreach (int j in (ReadOnlySpan<int>)[i - 1, i])
            {
                if (j < 0 || j >= sorted.Length) continue;
                double error = Math.Abs(need - sorted[j]);
                if (error < best) (best, bestLeft, bestRight) = (error, m, order[j]);
            }
        }
        var subset = Enumerable.Range(0, half).Where(b => (bestLeft >> b & 1) == 1)
            .Concat(Enumerable.Range(0, items.Count - half).Where(b => (bestRight >> b & 1) == 1).Select(b => half + b));
        return (best, [.. subset]);
    }

    /// <summary>All 2^n subset sums, in the order of the bit masks.</summary>
    public static double[] Sums(double[] items)
    {
        var sums = new double[1 << items.Length];
        for (int j = 0; j < items.Length; j++)
        {
            int half = 1 << j;
            for (int m = 0; m < half; m++) sums[half + m] = sums[m] + items[j];
        }
        return sums;
    }
}
