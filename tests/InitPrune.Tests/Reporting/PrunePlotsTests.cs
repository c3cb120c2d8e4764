using System.Buffers.Binary;
using System.Text.Json;
using InitPrune.Pruning;
using InitPrune.Reporting;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Reporting;

/// <summary><c>prune</c> draws what it did: weights kept per layer and per unit, from the summary's own tables.</summary>
public class PrunePlotsTests
{
    [Fact]
    public void Prune_writes_both_charts_beside_the_summary_drawn_from_its_layer_table()
    {
        using var dir = new TempDir();
        var outDir = dir.File("p");
        var r = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "3", "--width", "32", "--method", "snip", "--sparsity", "0.9", "--out", outDir, "--json");
        Assert.Equal(0, r.ExitCode);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var files = summary.RootElement.GetProperty("files");
        foreach (var (key, name) in new[] { ("kept_per_layer", "kept_per_layer.png"), ("kept_per_unit", "kept_per_unit.png") })
        {
            Assert.Equal(name, files.GetProperty(key).GetString());
            var png = File.ReadAllBytes(Path.Combine(outDir, name));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
            Assert.Equal(PrunePlots.Width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
            Assert.Equal(PrunePlots.Height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        }

        // The bars are the summary's layer table: each tensor's kept / total, in percent.
        var layers = summary.RootElement.GetProperty("layers").EnumerateArray()
            .Select(l => new LayerReport(l.GetProperty("name").GetString()!, l.GetProperty("kept").GetInt64(), l.GetProperty("total").GetInt64())).ToList();
        Assert.Equal(4, layers.Count);
        var (names, kept) = PrunePlots.LayerKept(layers);
        Assert.Equal(layers.Select(l => l.Name), names);
        Assert.Equal(layers.Select(l => 100.0 * l.Kept / l.Total), kept);

        // The histogram counts every unit of the weight tensors once, in the bin of its kept fraction.
        var units = summary.RootElement.GetProperty("unit_kept_fractions").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(x => x.GetDouble()).ToArray());
        var (starts, counts) = PrunePlots.UnitKept(units);
        var fractions = units.Where(kv => kv.Key.EndsWith("weight", StringComparison.Ordinal)).SelectMany(kv => kv.Value).ToList();
        Assert.Equal(3 * 32 + 4, fractions.Count);
        Assert.Equal(fractions.Count, counts.Sum());
        for (int k = 0; k < PrunePlots.Bins; k++)
        {
            double lo = starts[k], hi = k + 1 < PrunePlots.Bins ? starts[k + 1] : double.PositiveInfinity;
            Assert.Equal(fractions.Count(f => f >= lo && f < hi), counts[k]);
        }
    }
}
