using System.Buffers.Binary;
using System.Xml.Linq;
using InitPrune.Reporting;
using SkiaSharp;

namespace InitPrune.Tests.Reporting;

public sealed class PlotsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("initprune-plot-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly double[] Sparsity = [0, 0.5, 0.9, 0.98];

    static Series[] AccuracyBySparsity() =>
    [
        new("Random", Sparsity, [0.91, 0.90, 0.84, 0.62], [0.004, 0.006, 0.012, 0.03]),
        new("Magnitude", Sparsity, [0.91, 0.91, 0.88, 0.75]),
        new("SNIP", Sparsity, [0.91, 0.90, 0.87, 0.79], [0.003, 0.004, 0.009, 0.02]),
    ];

    [Fact]
    public void Lines_writes_a_non_blank_png_of_the_requested_size_in_a_new_folder()
    {
        var path = Path.Combine(dir, "plots", "accuracy.png");

        Plots.Lines(path, "Test accuracy vs sparsity", "sparsity", "test accuracy", AccuracyBySparsity(), width: 640, height: 400);

        AssertPng(path, 640, 400);
    }

    [Fact]
    public void Categorical_x_places_bunched_values_evenly_with_string_labels()
    {
        var path = Path.Combine(dir, "accuracy-categorical.png");

        Plots.Lines(path, "Test accuracy vs sparsity", "sparsity", "test accuracy", AccuracyBySparsity(),
            xTickLabels: ["0%", "50%", "90%", "98%"]);

        AssertPng(path, 800, 500);
    }

    [Fact]
    public void Categorical_x_needs_one_label_per_distinct_value()
    {
        var path = Path.Combine(dir, "wrong.png");

        Assert.Throws<ArgumentException>(() => Plots.Lines(path, "t", "x", "y", AccuracyBySparsity(), xTickLabels: ["0", "0.5"]));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Mismatched_series_lengths_are_rejected()
    {
        Assert.Throws<ArgumentException>(() =>
            Plots.Lines(Path.Combine(dir, "x.png"), "t", "x", "y", [new Series("s", [1, 2], [1])]));
        Assert.Throws<ArgumentException>(() =>
            Plots.Lines(Path.Combine(dir, "x.png"), "t", "x", "y", [new Series("s", [1, 2], [1, 2], [0.1])]));
    }

    [Fact]
    public void An_svg_path_writes_valid_svg_and_a_png_beside_it()
    {
        var path = Path.Combine(dir, "accuracy.svg");

        Plots.Lines(path, "Test accuracy vs sparsity", "sparsity", "test accuracy", AccuracyBySparsity(), width: 500, height: 300);

        var svg = XDocument.Load(path);
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        AssertPng(Path.ChangeExtension(path, ".png"), 500, 300);
    }

    static void AssertPng(string path, int width, int height)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));

        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        var colors = new HashSet<SKColor>();
        for (var y = 0; y < bitmap.Height && colors.Count < 3; y += 7)
        {
            for (var x = 0; x < bitmap.Width && colors.Count < 3; x += 3)
                colors.Add(bitmap.GetPixel(x, y));
        }
        Assert.True(colors.Count > 1, "the PNG is a single flat color");
    }
}
