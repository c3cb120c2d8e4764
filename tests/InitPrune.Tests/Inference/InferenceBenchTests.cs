using System.Text.Json;
using InitPrune.Inference;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Inference;

/// <summary>`bench --inference` at a tiny size: every row is written and every sparse path agrees with the dense network. Times are not checked.</summary>
public class InferenceBenchTests
{
    [Fact]
    public void A_tiny_inference_bench_writes_every_row_and_its_sparse_outputs_agree_with_the_dense_network()
    {
        using var dir = new TempDir();
        var options = new InferenceBenchOptions(["lenet300"], [0.5, 0.99], [1, 3], [1, 0], Repetitions: 2, SecondsPerCell: 0,
            PyTorchScript: Path.Combine(AppContext.BaseDirectory, "pytorch", "sparse_bench.py"));
        var report = InferenceBench.RunInto(dir.Path, options);

        int threads = new[] { 1, Environment.ProcessorCount }.Distinct().Count();
        Assert.Equal(2 * 2 * threads, report.Rows.Count);
        Assert.Equal(2 * threads, report.Crossovers.Count);
        foreach (var s in new[] { 0.5, 0.99 })
            foreach (var b in new[] { 1, 3 })
                Assert.Equal(threads, report.Rows.Count(r => r.Sparsity == s && r.Batch == b));
        foreach (var r in report.Rows)
        {
            Assert.InRange(r.ManagedDiff, 0, 1e-4);
            Assert.InRange(r.TorchSparseDiff, 0, 1e-4);
            Assert.True(r.DenseSeconds > 0 && r.ManagedSeconds > 0 && r.TorchSparseSeconds > 0 && r.PyTorchCsrSeconds > 0);
            Assert.Equal(r.DenseSeconds / r.ManagedSeconds, r.ManagedSpeedup, 1e-9);
            Assert.Equal(300 * 784 + 100 * 300 + 10 * 100, r.DenseWeights);
        }
        var half = report.Rows.First(r => r.Sparsity == 0.5);
        Assert.InRange(half.Density, 0.49, 0.51); // no unit dies at half density
        var sparse = report.Rows.First(r => r.Sparsity == 0.99);
        Assert.True(sparse.KeptWeights <= 0.01 * sparse.DenseWeights + 3); // dead units make it smaller still

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "inference.json")));
        Assert.Equal(report.Rows.Count, json.RootElement.GetProperty("rows").GetArrayLength());
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.Path, "models"), "*.sparse.safetensors").Length);
    }

    [Fact]
    public void Vgg16_rows_fold_batchnorm_count_the_convolutions_work_and_agree_with_the_dense_network()
    {
        using var dir = new TempDir();
        var report = InferenceBench.RunInto(dir.Path, new InferenceBenchOptions(["vgg16", "vgg16-bn"], [0.99], [2], [1], Repetitions: 1, SecondsPerCell: 0));
        Assert.Equal(2, report.Rows.Count);
        long[] channels = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512];
        long denseWeights = Enumerable.Range(1, 13).Sum(i => 9 * channels[i - 1] * channels[i]) + 512 * 10;
        foreach (var r in report.Rows)
        {
            Assert.Equal(denseWeights, r.DenseWeights);
            Assert.Equal(r.Model == "vgg16-bn", r.BatchNormFolded);
            Assert.InRange(r.ManagedDiff, 0, 1e-4);
            Assert.True(double.IsNaN(r.TorchSparseSeconds) && r.Best == "managed");
            // Dense multiply-adds per sample: Σ 9·in·out·H·W over the 13 convolutions (32² for two, 16², 8², 4², 2² for the blocks) + the classifier.
            long[] side = [32, 32, 16, 16, 8, 8, 8, 4, 4, 4, 2, 2, 2];
            long macs = Enumerable.Range(1, 13).Sum(i => 9 * channels[i - 1] * channels[i] * side[i - 1] * side[i - 1]) + 5120;
            Assert.Equal(2.0 * macs * 2 / r.DenseSeconds / 1e9, r.DenseGflops, 1e-6);
        }
        Assert.Equal("conv", Assert.Single(report.Crossovers, c => c.Model == "vgg16").LayerType);
    }

    [Fact]
    public void Resnet32_rows_fold_batchnorm_count_the_blocks_work_and_agree_with_the_dense_network()
    {
        using var dir = new TempDir();
        var report = InferenceBench.RunInto(dir.Path, new InferenceBenchOptions(["resnet32"], [0.99], [2], [1], Repetitions: 1, SecondsPerCell: 0));
        var r = Assert.Single(report.Rows);
        // Per stage of 5 blocks two 3×3 convolutions each; stages 2 and 3 open with a stride-2 conv1 and a 1×1 projection (shortcut B).
        long Stage(long cin, long c, long side) => (9 * cin * c + 9 * c * c + (cin == c ? 0 : cin * c) + 8 * 9 * c * c) * side * side;
        long Weights(long cin, long c) => 9 * cin * c + 9 * c * c + (cin == c ? 0 : cin * c) + 8 * 9 * c * c;
        Assert.Equal(27 * 16 + Weights(16, 16) + Weights(16, 32) + Weights(32, 64) + 640, r.DenseWeights);
        long macs = 27 * 16 * 1024 + Stage(16, 16, 32) + Stage(16, 32, 16) + Stage(32, 64, 8) + 640;
        Assert.Equal(2.0 * macs * 2 / r.DenseSeconds / 1e9, r.DenseGflops, 1e-6);
        Assert.True(r.BatchNormFolded);
        Assert.InRange(r.ManagedDiff, 0, 1e-4);
        Assert.Equal("conv", Assert.Single(report.Crossovers).LayerType);
    }

    [Fact]
    public void Conv4_rows_count_the_convolutions_and_the_head_and_agree_with_the_dense_network()
    {
        Assert.DoesNotContain("conv4", InferenceBenchOptions.DefaultModels);
        using var dir = new TempDir();
        var report = InferenceBench.RunInto(dir.Path, new InferenceBenchOptions(["conv4"], [0.99], [2], [1], Repetitions: 1, SecondsPerCell: 0));
        var r = Assert.Single(report.Rows);
        // Conv-4 on 3 × 32 × 32: 3 → 64 → 64, pool, → 128 → 128, pool, flatten 128·8·8 into 256, 256, 10.
        long[] layers = [9 * 3 * 64, 9 * 64 * 64, 9 * 64 * 128, 9 * 128 * 128, 128 * 8 * 8 * 256, 256 * 256, 256 * 10];
        Assert.Equal(layers.Sum(), r.DenseWeights);
        Assert.InRange(r.KeptWeights, 1, layers.Sum(n => (long)Math.Round(0.01 * n))); // layerwise 1%, less what removal took
        Assert.True(r.HiddenUnitsRemoved > 0, "no channel or unit removed at 99%"); // a first-layer channel keeps none of its 27 weights with probability 0.99²⁷ ≈ 0.76
        long macs = (layers[0] + layers[1]) * 32 * 32 + (layers[2] + layers[3]) * 16 * 16 + layers[4] + layers[5] + layers[6];
        Assert.Equal(2.0 * macs * 2 / r.DenseSeconds / 1e9, r.DenseGflops, 1e-6);
        Assert.False(r.BatchNormFolded);
        Assert.InRange(r.ManagedDiff, 0, 1e-4);
        Assert.True(double.IsNaN(r.TorchSparseSeconds) && r.Best == "managed");
        Assert.Equal("conv", Assert.Single(report.Crossovers).LayerType);
    }

    [Fact]
    public void The_cli_runs_the_bench_and_refuses_a_model_it_does_not_know_in_one_line()
    {
        using var dir = new TempDir();
        var ok = CliRunner.Run("bench", "--inference", "--models", "mlp5x1000", "--sparsities", "0.99", "--batch-sizes", "2", "--threads", "1",
            "--repetitions", "1", "--seconds-per-cell", "0", "--out", dir.Path, "--json");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        using var json = JsonDocument.Parse(ok.Stdout);
        var row = Assert.Single(json.RootElement.GetProperty("rows").EnumerateArray());
        Assert.Equal("mlp5x1000", row.GetProperty("model").GetString());
        Assert.InRange(row.GetProperty("managed_diff").GetDouble(), 0, 1e-4);
        Assert.True(File.Exists(Path.Combine(dir.Path, "inference.json")));

        var line = CliRunner.AssertOneLineError(CliRunner.Run("bench", "--inference", "--models", "resnet20", "--out", dir.Sub("bad")));
        Assert.Contains("resnet32", line);
    }
}
