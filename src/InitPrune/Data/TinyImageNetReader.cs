using System.Collections.Concurrent;
using InitPrune.Engine;
using SkiaSharp;
using static TorchSharp.torch;

namespace InitPrune.Data;

/// <summary>
/// Reads tiny-imagenet-200 in its published layout: classes in <c>wnids.txt</c> order, training images
/// <c>train/&lt;wnid&gt;/images/*.JPEG</c> (sorted by name within each class) and, as the test set, the labelled
/// validation images <c>val/images/*</c> in <c>val/val_annotations.txt</c> order. Every image is a 64x64 JPEG,
/// decoded to RGB (grayscale and CMYK ones included) and normalized with <see cref="Normalization.TinyImageNet"/>.
/// </summary>
public static class TinyImageNetReader
{
    public const int Channels = 3;
    public const int Side = 64;
    public const int ImageBytes = Channels * Side * Side;

    public const string Subfolder = "tiny-imagenet-200";
    public const string WnidsFile = "wnids.txt";
    public const string TrainFolder = "train";
    public const string ValAnnotationsFile = "val/val_annotations.txt";
    public const string HowToGet = "download tiny-imagenet-200.zip (http://cs231n.stanford.edu/tiny-imagenet-200.zip), unzip it and pass --data-dir or set " + DataRoot.EnvVar;

    /// <summary>Loads the training images (train) and the labelled validation images (test) under <paramref name="root"/>.</summary>
    public static DatasetSplit Load(string root)
    {
        var wnids = ReadWnids(root);
        var (trainFiles, trainLabels) = TrainFiles(root, wnids);
        var (valFiles, valLabels) = ValFiles(root, wnids);
        var train = ToDataset(trainFiles, trainLabels, wnids.Count);
        try
        {
            return new DatasetSplit(train, ToDataset(valFiles, valLabels, wnids.Count), root);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>The class ids, one per non-blank line of <c>wnids.txt</c>.</summary>
    public static IReadOnlyList<string> ReadWnids(string root)
    {
        var path = Path.Combine(root, WnidsFile);
        var wnids = ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (wnids.Count < 2)
            throw DataError.Create($"{path} lists {wnids.Count} class ids, expected one per line (200 in tiny-imagenet-200); {HowToGet}");
        var repeated = wnids.GroupBy(w => w).FirstOrDefault(g => g.Count() > 1);
        if (repeated != null)
            throw DataError.Create($"{path} lists class id {repeated.Key} more than once; the file is corrupt, {HowToGet}");
        return wnids;
    }

    /// <summary>Decodes JPEG files (in parallel) to RGB pixel bytes laid out [N, 3, 64, 64].</summary>
    public static byte[] DecodeImages(IReadOnlyList<string> paths)
    {
        if ((long)paths.Count * ImageBytes > Array.MaxLength)
            throw DataError.Create($"{paths.Count} images are too many to load at once; use a smaller image folder");
        var pixels = new byte[paths.Count * ImageBytes];
        var errors = new ConcurrentBag<(int index, InitPruneException error)>();
        Parallel.For(0, paths.Count, () => new byte[Side * Side * 4], (i, _, rgba) =>
        {
            try
            {
                DecodeInto(paths[i], rgba, pixels.AsSpan(i * ImageBytes, ImageBytes));
            }
            catch (InitPruneException e)
            {
                errors.Add((i, e));
            }
            return rgba;
        }, _ => { });
        if (!errors.IsEmpty)
            throw errors.MinBy(e => e.index).error;
        return pixels;
    }

    static void DecodeInto(string path, byte[] rgba, Span<byte> planes)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw DataError.Create($"cannot read {path}: {e.Message}", e);
        }
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw DataError.Create($"{path} is not a readable image (corrupt JPEG?); download tiny-imagenet-200 again");
        if (codec.Info.Width != Side || codec.Info.Height != Side)
            throw DataError.Create($"{path} is {codec.Info.Width}x{codec.Info.Height}, expected {Side}x{Side} like every tiny-imagenet-200 image; replace it with the original file");
        var info = new SKImageInfo(Side, Side, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var result = codec.GetPixels(info, rgba);
        if (result != SKCodecResult.Success)
            throw DataError.Create($"{path} is a corrupt JPEG ({result}); download tiny-imagenet-200 again");
        for (var k = 0; k < Side * Side; k++)
            for (var c = 0; c < Channels; c++)
                planes[c * Side * Side + k] = rgba[k * 4 + c];
    }

    static (List<string> files, List<long> labels) TrainFiles(string root, IReadOnlyList<string> wnids)
    {
        var train = RequireFolder(Path.Combine(root, TrainFolder));
        var (files, labels) = (new List<string>(), new List<long>());
        for (var label = 0; label < wnids.Count; label++)
        {
            var images = RequireFolder(Path.Combine(train, wnids[label], "images"));
            var jpegs = Directory.GetFiles(images).Where(IsJpeg).Order(StringComparer.Ordinal).ToList();
            if (jpegs.Count == 0)
                throw DataError.Create($"{images} holds no JPEG images for class {wnids[label]}; the dataset is incomplete, {HowToGet}");
            files.AddRange(jpegs);
            labels.AddRange(Enumerable.Repeat((long)label, jpegs.Count));
        }
        return (files, labels);
    }

    static (List<string> files, List<long> labels) ValFiles(string root, IReadOnlyList<string> wnids)
    {
        var path = Path.Combine(root, ValAnnotationsFile);
        var images = RequireFolder(Path.Combine(root, "val", "images"));
        var index = wnids.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => (long)p.i);
        var (files, labels) = (new List<string>(), new List<long>());
        var seen = new HashSet<string>();
        var lineNumber = 0;
        foreach (var line in ReadLines(path))
        {
            lineNumber++;
            if (line.Trim().Length == 0)
                continue;
            var fields = line.Split('\t');
            if (fields.Length < 2)
                throw DataError.Create($"{path} line {lineNumber}: expected tab-separated file name and class id, found '{line.Trim()}'; the file is corrupt, {HowToGet}");
            var (name, wnid) = (fields[0].Trim(), fields[1].Trim());
            if (!index.TryGetValue(wnid, out var label))
                throw DataError.Create($"{path} line {lineNumber}: class id '{wnid}' of {name} is not in {WnidsFile}; the annotations belong to another dataset, {HowToGet}");
            var file = Path.Combine(images, name);
            if (!File.Exists(file))
                throw DataError.Create($"{path} line {lineNumber} names {file}, which is missing; the dataset is incomplete, {HowToGet}");
            if (!seen.Add(name))
                throw DataError.Create($"{path} line {lineNumber} names {name} a second time; the file is corrupt, {HowToGet}");
            files.Add(file);
            labels.Add(label);
        }
        if (files.Count == 0)
            throw DataError.Create($"{path} lists no images; the file is corrupt, {HowToGet}");
        return (files, labels);
    }

    static Dataset ToDataset(List<string> files, List<long> labels, int numClasses)
    {
        var inputs = Normalization.TinyImageNet.Apply(DecodeImages(files), [files.Count, Channels, Side, Side]);
        return new Dataset("tiny-imagenet", inputs, tensor(labels.ToArray(), device: Compute.Device), TaskKind.Classification, numClasses);
    }

    static bool IsJpeg(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".jpeg" or ".jpg";

    static string RequireFolder(string folder) =>
        Directory.Exists(folder) ? folder : throw DataError.Create($"{folder} is missing; {HowToGet}");

    static string[] ReadLines(string path)
    {
        if (!File.Exists(path))
            throw DataError.Create($"{path} is missing; {HowToGet}");
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw DataError.Create($"cannot read {path}: {e.Message}", e);
        }
    }
}
