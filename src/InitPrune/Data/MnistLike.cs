namespace InitPrune.Data;

/// <summary>Loads an MNIST-style folder: four IDX files, each raw or with a <c>.gz</c> suffix.</summary>
public static class MnistLike
{
    public const int NumClasses = 10;

    /// <summary>The files' names without the optional <c>.gz</c> suffix.</summary>
    public static IReadOnlyList<string> Files { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The path of <paramref name="file"/> in <paramref name="folder"/>, raw or gzipped, or null when neither exists.</summary>
    public static string? Find(string folder, string file) =>
        new[] { file, file + ".gz" }.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);

    public static DatasetSplit Load(string folder, string name, Normalization normalization)
    {
        var paths = Files.Select(f => Find(folder, f) ?? throw DataError.Create(
            $"{name}: {Path.Combine(folder, f)}(.gz) is missing; put all of {string.Join(", ", Files)} (raw or .gz) in {folder}")).ToArray();
        var train = Read(name, paths[0], paths[1], normalization);
        try
        {
            var test = Read(name, paths[2], paths[3], normalization);
            if (!test.SampleShape.SequenceEqual(train.SampleShape))
            {
                var error = DataError.Create($"{name}: the test images ({paths[2]}) are {string.Join("x", test.SampleShape[1..])} pixels but the training images ({paths[0]}) are {string.Join("x", train.SampleShape[1..])}; use files from the same dataset release");
                test.Dispose();
                throw error;
            }
            return new DatasetSplit(train, test, folder);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    static Dataset Read(string name, string imagesPath, string labelsPath, Normalization normalization)
    {
        var (pixels, count, rows, cols) = IdxReader.ReadImages(imagesPath);
        var labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != count)
            throw DataError.Create($"{imagesPath} has {count} images but {labelsPath} has {labels.Length} labels; use image and label files from the same dataset release");
        LabelBytes.Check(labels, NumClasses, labelsPath);
        var x = normalization.Apply(pixels, [count, 1, rows, cols]);
        return new Dataset(name, x, LabelBytes.ToTensor(labels), TaskKind.Classification, NumClasses);
    }
}
