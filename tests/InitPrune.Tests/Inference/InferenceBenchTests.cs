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

        var line = CliRunner.AssertOneLineError(CliRunner.Run("bench", "--inference", "--models", "vgg16", "--out", dir.Sub("bad")));
        Assert.Contains("lenet300 and mlp5x1000", line);
    }
}
