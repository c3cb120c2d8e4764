using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Data;

/// <summary>Checks and converts class labels stored as bytes.</summary>
internal static class LabelBytes
{
    public static void Check(byte[] labels, int numClasses, string path)
    {
        var i = Array.FindIndex(labels, l => l >= numClasses);
        if (i >= 0)
            throw DataError.Create($"{path}: label {labels[i]} at index {i} is out of range for {numClasses} classes (0-{numClasses - 1}); the file is corrupt or belongs to another dataset");
    }

    /// <summary>An int64 [N] tensor on <see cref="Compute.Device"/>.</summary>
    public static Tensor ToTensor(byte[] labels)
    {
        using var raw = tensor(labels, [labels.LongLength], device: Compute.Device);
        return raw.to(ScalarType.Int64);
    }
}
