namespace InitPrune.Data;

/// <summary>
/// Reads the binary versions of CIFAR-10 (records of 1 label byte + 3072 pixel bytes) and CIFAR-100
/// (1 coarse label byte + 1 fine label byte + 3072 pixel bytes). Pixels are the R, G and B planes, each
/// 32x32 row-major, so they map directly onto [C, H, W].
/// </summary>
public static class CifarReader
{
    public const int Channels = 3;
    public const int Side = 32;
    public const int ImageBytes = Channels * Side * Side;

    public static IReadOnlyList<string> Cifar10TrainFiles { get; } = [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")];
    public const string Cifar10TestFile = "test_batch.bin";
    public const string Cifar100TrainFile = "train.bin";
    public const string Cifar100TestFile = "test.bin";

    /// <summary>Reads and concatenates CIFAR-10 batch files: pixels [N * 3072] and labels [N] in 0..9.</summary>
    public static (byte[] pixels, byte[] labels) ReadCifar10(params IReadOnlyList<string> paths) => Read(paths, 1, 0, 10);

    /// <summary>Reads a CIFAR-100 file: pixels [N * 3072] and fine labels [N] in 0..99, or coarse labels in 0..19.</summary>
    public static (byte[] pixels, byte[] labels) ReadCifar100(string path, bool coarse = false) =>
        Read([path], 2, coarse ? 0 : 1, coarse ? 20 : 100);

    /// <summary>Loads data_batch_1..5.bin and test_batch.bin from <paramref name="folder"/>.</summary>
    public static DatasetSplit LoadCifar10(string folder) =>
        Load("cifar10", folder, Normalization.Cifar10, 10,
            () => ReadCifar10([.. Cifar10TrainFiles.Select(f => Path.Combine(folder, f))]),
            () => ReadCifar10(Path.Combine(folder, Cifar10TestFile)));

    /// <summary>Loads train.bin and test.bin from <paramref name="folder"/>, with the 100 fine labels or the 20 coarse ones.</summary>
    public static DatasetSplit LoadCifar100(string folder, bool coarse = false) =>
        Load("cifar100", folder, Normalization.Cifar100, coarse ? 20 : 100,
            () => ReadCifar100(Path.Combine(folder, Cifar100TrainFile), coarse),
            () => ReadCifar100(Path.Combine(folder, Cifar100TestFile), coarse));

    static DatasetSplit Load(string name, string folder, Normalization normalization, int numClasses,
        Func<(byte[], byte[])> readTrain, Func<(byte[], byte[])> readTest)
    {
        var train = ToDataset(name, readTrain(), normalization, numClasses);
        try
        {
            return new DatasetSplit(train, ToDataset(name, readTest(), normalization, numClasses), folder);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    static Dataset ToDataset(string name, (byte[] pixels, byte[] labels) data, Normalization normalization, int numClasses) =>
        new(name, normalization.Apply(data.pixels, [data.labels.Length, Channels, Side, Side]),
            LabelBytes.ToTensor(data.labels), TaskKind.Classification, numClasses);

    static (byte[] pixels, byte[] labels) Read(IReadOnlyList<string> paths, int labelBytes, int labelIndex, int numClasses)
    {
        var record = labelBytes + ImageBytes;
        var counts = paths.Select(p => Records(p, record)).ToArray();
        var total = counts.Sum(c => (long)c);
        if (total * ImageBytes > Array.MaxLength)
            throw DataError.Create($"{string.Join(", ", paths)}: {total} images are too many to load at once; use fewer files");
        var pixels = new byte[total * ImageBytes];
        var labels = new byte[total];
        var buffer = new byte[record * 256];
        var n = 0;
        for (var f = 0; f < paths.Count; f++)
        {
            using var file = OpenRead(paths[f]);
            for (var left = counts[f]; left > 0;)
            {
                var chunk = Math.Min(left, 256);
                var span = buffer.AsSpan(0, chunk * record);
                if (DataFile.Fill(file, span, paths[f]) < span.Length)
                    throw DataError.Create($"{paths[f]} shrank while being read; retry when nothing else is writing it");
                for (var r = 0; r < chunk; r++, n++)
                {
                    var rec = span.Slice(r * record, record);
                    labels[n] = rec[labelIndex];
                    rec[labelBytes..].CopyTo(pixels.AsSpan(n * ImageBytes, ImageBytes));
                }
                left -= chunk;
            }
            var bad = Array.FindIndex(labels, n - counts[f], counts[f], l => l >= numClasses);
            if (bad >= 0)
                throw DataError.Create($"{paths[f]}: label {labels[bad]} of record {bad - (n - counts[f])} is out of range for {numClasses} classes (0-{numClasses - 1}); the file is corrupt or is not a {(labelBytes == 1 ? "CIFAR-10" : "CIFAR-100")} binary file");
        }
        return (pixels, labels);
    }

    static int Records(string path, int record)
    {
        if (!File.Exists(path))
            throw DataError.Create($"{path} is missing; download the binary version of the dataset and point --data-dir at its folder");
        var length = new FileInfo(path).Length;
        if (length == 0 || length % record != 0 || length / record > int.MaxValue)
        {
            var expected = Math.Max(1, (length + record - 1) / record) * record;
            throw DataError.Create($"{path} is truncated or not a {(record == ImageBytes + 1 ? "CIFAR-10" : "CIFAR-100")} binary file: expected a whole number of {record}-byte records ({expected} bytes), found {length} bytes; download it again");
        }
        return (int)(length / record);
    }

    static FileStream OpenRead(string path)
    {
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw DataError.Create($"cannot read {path}: {e.Message}", e);
        }
    }
}
