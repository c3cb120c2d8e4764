using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.IO;

/// <summary>
/// Any tensor file InitPrune reads (safetensors, or a PyTorch .pt/.pth zip checkpoint, told apart by their first bytes)
/// or writes (<see cref="SaveFormat"/>). Any other file is a one-line error naming the format it is.
/// </summary>
public static class TensorFile
{
    /// <summary>Reads every tensor onto <see cref="Compute.Device"/>; the caller owns (disposes) them.</summary>
    public static TensorDict Load(string path, string what = "file") =>
        CheckpointFormat.Require(path, what) == FileKind.PyTorchZip ? PyTorchCheckpoint.Load(path) : Safetensors.Load(path);

    /// <summary>Refuses a missing file, or one in a format InitPrune does not read, in one line.</summary>
    public static void RequireFile(string path, string what = "file") => CheckpointFormat.Require(path, what);

    /// <summary>
    /// Writes <paramref name="tensors"/> as <paramref name="format"/> (safetensors keeps <paramref name="metadata"/>; a .pt
    /// checkpoint has no place for it). Returns the file name written: <paramref name="stem"/> plus the format's extension.
    /// </summary>
    public static string Save(string folder, string stem, IReadOnlyDictionary<string, Tensor> tensors, SaveFormat format, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var name = stem + CheckpointFormat.Extension(format);
        SaveAs(Path.Combine(folder, name), tensors, format, metadata);
        return name;
    }

    /// <summary>Writes <paramref name="tensors"/> to exactly <paramref name="path"/> as <paramref name="format"/>.</summary>
    public static void SaveAs(string path, IReadOnlyDictionary<string, Tensor> tensors, SaveFormat format, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (format == SaveFormat.Pt) PyTorchCheckpoint.Save(path, tensors);
        else Safetensors.Save(path, tensors, metadata);
    }
}
