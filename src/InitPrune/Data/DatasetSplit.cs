namespace InitPrune.Data;

/// <summary>A train/test pair; <paramref name="Source"/> is the folder read, or <c>synthetic (seed N)</c>.</summary>
public sealed record DatasetSplit(Dataset Train, Dataset Test, string Source) : IDisposable
{
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
