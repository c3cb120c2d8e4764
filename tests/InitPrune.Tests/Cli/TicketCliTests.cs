using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using static TorchSharp.torch;

namespace InitPrune.Tests.Cli;

public sealed class TicketCliTests : IDisposable
{
    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    [Fact]
    public void Ticket_on_the_ellipse_writes_mask_with_biases_weights_and_summary()
    {
        var dir = root.Sub("ticket");
        var r = CliRunner.Run("ticket", "--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "16", "--sparsity", "0.9",
            "--epochs", "2", "--anneal-epochs", "1", "--scaled", "--batch-size", "256", "--seed", "1", "--out", dir, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("ρ (fraction kept) is 0.1", r.Stderr);
        Assert.Contains("epoch 2/2 ρ 0.1 λ", r.Stderr);
        var summary = r.Json;
        Assert.Equal(0.9, summary.GetProperty("sparsity").GetDouble(), 12);
        Assert.Equal(0.1, summary.GetProperty("kept_fraction").GetDouble(), 12);
        Assert.True(summary.GetProperty("scaled").GetBoolean());
        var epochs = summary.GetProperty("epochs");
        Assert.Equal(2, epochs.GetArrayLength());
        Assert.Equal(0.1, epochs[0].GetProperty("kept_fraction").GetDouble(), 12);
        Assert.True(epochs[1].GetProperty("lambda").GetDouble() > 0);
        Assert.InRange(summary.GetProperty("final_test_accuracy").GetDouble(), 0, 1);
        // 2 → 16 → 16 → 4, layer-wise: each tensor keeps n − ⌊0.9 n⌋.
        Assert.Equal(2 * 16 + 16 * 16 + 16 * 4, summary.GetProperty("total_weights").GetInt64());
        Assert.Equal(4 + 26 + 7, summary.GetProperty("kept_weights").GetInt64());
        Assert.Equal(2 + 2 + 1, summary.GetProperty("kept_biases").GetInt64());
        foreach (var f in new[] { "mask.safetensors", "weights.safetensors", "scores.safetensors", "summary.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);

        // The mask is an ordinary InitPrune mask, biases included, and installs on the model the weights file fills.
        using var mask = Mask.Load(Path.Combine(dir, "mask.safetensors"));
        Assert.Equal(["layers.0.bias", "layers.0.weight", "layers.2.bias", "layers.2.weight", "layers.4.bias", "layers.4.weight"], mask.Tensors.Keys.Order());
        Assert.All(mask.Tensors.Values, t => Assert.Equal(ScalarType.Bool, t.dtype));
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Depth: 2, Width: 16), [2], 4);
        using (var weights = Safetensors.Load(Path.Combine(dir, "weights.safetensors"))) Network.LoadStateDict(model, weights, "weights.safetensors");
        mask.ApplyTo(model);
        Assert.Equal(4 + 26 + 7, Network.Prunable(model).Sum(t => t.Value.count_nonzero().item<long>()));
    }

    [Fact]
    public void Ticket_with_tensorboard_writes_every_epochs_scalars()
    {
        var tb = root.Sub("tb");
        var r = CliRunner.Run("ticket", "--dataset", "ellipse", "--model", "mlp", "--depth", "1", "--width", "8", "--init", "slt-he", "--sparsity", "0.5",
            "--epochs", "3", "--anneal-epochs", "2", "--scaled", "--batch-size", "256", "--out", root.Sub("t"), "--tensorboard", tb, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var epochs = r.Json.GetProperty("epochs").EnumerateArray().ToList();
        var events = Training.EventFile.Read(Assert.Single(Directory.GetFiles(tb, "events.out.tfevents.*")));
        foreach (var (tag, field) in new[] { ("ticket/kept_fraction", "kept_fraction"), ("ticket/lambda", "lambda"), ("ticket/scale", "scale"),
                     ("train/loss", "train_loss"), ("test/loss", "test_loss"), ("test/accuracy", "test_accuracy"), ("lr", "learning_rate") })
        {
            var scalars = Training.EventFile.Scalars(events, tag);
            Assert.Equal([1L, 2L, 3L], scalars.Select(s => s.Step));
            Assert.Equal(epochs.Select(e => (float)e.GetProperty(field).GetDouble()), scalars.Select(s => (float)s.Value));
        }
        Assert.Equal(Math.Sqrt(0.5), Training.EventFile.Scalars(events, "ticket/kept_fraction")[0].Value, 6);
    }

    [Fact]
    public void Ticket_refuses_a_tensorboard_folder_that_is_a_file()
    {
        var file = Path.Combine(root.Sub("f"), "x");
        File.WriteAllText(file, "");
        CliRunner.AssertOneLineError(CliRunner.Run("ticket", "--dataset", "ellipse", "--sparsity", "0.5", "--epochs", "1", "--out", root.Sub("o"), "--tensorboard", file));
    }

    [Fact]
    public void Ticket_needs_sparsity_and_refuses_more_annealing_than_epochs()
    {
        CliRunner.AssertOneLineError(CliRunner.Run("ticket", "--dataset", "ellipse", "--out", root.Sub("a")));
        var e = CliRunner.AssertOneLineError(CliRunner.Run("ticket", "--dataset", "ellipse", "--sparsity", "0.9", "--epochs", "2", "--anneal-epochs", "3", "--out", root.Sub("b")));
        Assert.Contains("--anneal-epochs 3", e);
    }

    [Fact]
    public void Bench_edge_popup_times_both_nets_and_counts_their_scores()
    {
        var dir = root.Sub("bench");
        var r = CliRunner.Run("bench", "--edge-popup", "--batches", "1", "--repetitions", "1", "--out", dir, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = r.Json;
        Assert.Equal(2, rows.GetArrayLength());
        // Scores = weights + biases: 2→100→100→100→100→4, and Conv-4 (3→64→64, 64→128→128 convs 3×3, 8192→256→256→10).
        Assert.Equal(2 * 100 + 3 * 100 * 100 + 100 * 4 + 4 * 100 + 4, rows[0].GetProperty("scores").GetInt64());
        Assert.Equal(3 * 64 * 9 + 64 * 64 * 9 + 64 * 128 * 9 + 128 * 128 * 9 + 8192 * 256 + 256 * 256 + 256 * 10 + 64 + 64 + 128 + 128 + 256 + 256 + 10,
            rows[1].GetProperty("scores").GetInt64());
        foreach (var row in rows.EnumerateArray())
        {
            double popup = row.GetProperty("edge_popup_step_seconds").GetDouble(), train = row.GetProperty("train_step_seconds").GetDouble();
            Assert.True(popup > 0 && train > 0);
            Assert.Equal(popup / train, row.GetProperty("ratio").GetDouble(), 9);
        }
        Assert.True(File.Exists(Path.Combine(dir, "edge-popup.json")));
    }
}
