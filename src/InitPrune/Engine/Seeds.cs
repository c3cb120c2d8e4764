namespace InitPrune.Engine;

/// <summary>Independent, reproducible seeds per purpose, so that e.g. a random mask never shares a stream with the weights.</summary>
public static class Seeds
{
    public static long For(long seed, string purpose)
    {
        // FNV-1a over the purpose, mixed with the seed by SplitMix64: stable across runs and platforms.
        ulong h = 14695981039346656037UL;
        foreach (char c in purpose) h = (h ^ c) * 1099511628211UL;
        ulong z = (ulong)seed + h + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (long)((z ^ (z >> 31)) >> 1);
    }
}
