using System.Globalization;
using System.Text.RegularExpressions;
using InitPrune.Data;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Tests.Training;

/// <summary>TensorBoard logs read back with an independent TFRecord and protobuf reader (<see cref="EventFile"/>).</summary>
public class TensorBoardTests
{
    [Fact]
    public void The_crc_is_crc32c_and_matches_the_independent_bitwise_one()
    {
        // The CRC-32C check value of "123456789" is 0xE3069283; masked as TFRecord does.
        uint crc = 0xE3069283;
        uint masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8;
        Assert.Equal(masked, EventFile.MaskedCrc("123456789"u8));
        Assert.Equal(masked, TensorBoardWriter.MaskedCrc("123456789"u8));
    }

    [Fact]
    public void A_training_log_reads_back_with_its_name_hparams_step_losses_and_layer_sparsity()
    {
        using var temp = new TempDir();
        using var data = TestNets.Ellipse(n: 300);
        using var model = TestNets.Mlp(2, [8, 6], 4);
        using (Pruner.Prune(model, new PruneSpec("magnitude", 0.6), new ScoringContext(null, null, TaskKind.Classification, 0))) { }
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var trainer = new Trainer(new TrainConfig(Epochs: 2, BatchSize: 50, TensorBoardDir: temp.Path))
        {
            HParams = [new("prune.method", "magnitude"), new("prune.sparsity", 0.6), new("train.nesterov", false), new("train.epochs", 2L), new("data.train_subset", null)],
        };
        var steps = new List<StepProgress>();
        trainer.Step += steps.Add;
        var history = trainer.Train(model, data, 0);
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // Named as TensorBoard names event files: Unix seconds (10 digits), host, process id, a counter.
        var file = Assert.Single(Directory.GetFiles(temp.Path));
        var name = Regex.Match(Path.GetFileName(file), @"^events\.out\.tfevents\.(\d{10})\.[A-Za-z0-9._@-]+\.(\d+)\.\d+$");
        Assert.True(name.Success, file);
        Assert.InRange(long.Parse(name.Groups[1].Value, CultureInfo.InvariantCulture), before, after);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), name.Groups[2].Value);

        var events = EventFile.Read(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.All(events, e => Assert.InRange(e.WallTime, before, after + 1));
        // Every optimizer step's loss at the global step; the epoch figures at the epoch.
        Assert.True(steps.Count > 2 * 2);
        Assert.Equal(steps.Select((s, i) => ((long)i + 1, (float)s.Loss)), EventFile.Scalars(events, "train/step_loss"));
        Assert.Equal(history.Select(h => ((long)h.Epoch, (float)h.TrainLoss)), EventFile.Scalars(events, "train/loss"));
        Assert.Equal(history.Select(h => ((long)h.Epoch, (float)h.TestAccuracy!.Value)), EventFile.Scalars(events, "test/accuracy"));

        // HParams: the experiment lists the hyper-parameters (type string 1, bool 2, float64 3) and the metrics; the
        // session start holds the values (null ones left out); the session ended successfully.
        var hp = EventFile.SessionHParams(events);
        Assert.Equal(new Dictionary<string, object> { ["prune.method"] = "magnitude", ["prune.sparsity"] = 0.6, ["train.nesterov"] = false, ["train.epochs"] = 2.0 }, hp);
        var experiment = EventFile.HParams(events, "_hparams_/experiment").Message(2);
        Assert.Equal(["prune.method", "prune.sparsity", "train.nesterov", "train.epochs"], experiment.Messages(4).Select(h => h.String(1)));
        Assert.Equal([1UL, 3UL, 2UL, 3UL], experiment.Messages(4).Select(h => h.Varint(4)));
        Assert.Equal(["train/loss", "test/loss", "test/accuracy"], experiment.Messages(5).Select(m => m.Message(1).String(2)));
        Assert.Equal(1UL, EventFile.HParams(events, "_hparams_/session_end_info").Message(4).Varint(1));

        // Per-layer sparsity as scalars, per-unit kept fractions as histograms, the layers' sparsities as one histogram.
        var masked = Network.Prunable(model).Where(t => t.Mask is not null).ToList();
        Assert.Equal(3, masked.Count);
        var sparsities = new List<double>();
        foreach (var t in masked)
        {
            using var kept = t.Mask!.ne(0).to(ScalarType.Float64);
            double sparsity = 1 - kept.sum().item<double>() / kept.numel();
            sparsities.Add(sparsity);
            Assert.Equal([(0L, (float)sparsity)], EventFile.Scalars(events, "sparsity/" + t.Name));
            using var rows = kept.sum([1]).div(kept.shape[1]);
            var perUnit = rows.data<double>().ToArray();
            var histogram = Histogram(events, "kept_per_unit/" + t.Name);
            Assert.Equal(perUnit.Length, histogram.Double(3));
            Assert.Equal(perUnit.Sum(), histogram.Double(4), 9);
            Assert.Equal(perUnit.Sum(x => x * x), histogram.Double(5), 9);
            Assert.Equal(perUnit.Min(), histogram.Double(1));
            Assert.Equal(perUnit.Max(), histogram.Double(2));
            Assert.Equal(perUnit.Length, histogram.PackedDoubles(7).Sum());
            Assert.Equal(perUnit.Max(), histogram.PackedDoubles(6)[^1]);
        }
        Assert.True(sparsities.Distinct().Count() > 1, "a global threshold prunes layers differently");
        var layers = Histogram(events, "sparsity/layers");
        Assert.Equal(masked.Count, layers.Double(3));
        Assert.Equal(sparsities.Sum(), layers.Double(4), 9);
    }

    [Fact]
    public void Train_records_its_data_model_mask_and_recipe_as_hparams()
    {
        using var dir = new TempDir();
        var pruned = dir.File("p");
        Assert.Equal(0, CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--width", "16", "--method", "random", "--sparsity", "0.75", "--out", pruned).ExitCode);
        var board = dir.File("tb");
        var r = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--width", "16", "--mask", Path.Combine(pruned, "mask.safetensors"),
            "--epochs", "1", "--lr", "0.05", "--nesterov", "--out", dir.File("t"), "--tensorboard", board);
        Assert.Equal(0, r.ExitCode);
        var events = EventFile.Read(Assert.Single(Directory.GetFiles(board)));
        var hp = EventFile.SessionHParams(events);
        Assert.Equal("ellipse", hp["data.name"]);
        Assert.Equal("mlp", hp["model.name"]);
        Assert.Equal("mask.safetensors", hp["mask"]);
        Assert.Equal(0.75, (double)hp["prune.sparsity"], 2);
        Assert.Equal(0.05, hp["train.lr"]);
        Assert.Equal(true, hp["train.nesterov"]);
        Assert.Equal(1.0, hp["train.epochs"]);
        Assert.False(hp.ContainsKey("train.max_steps"));
        var stepLosses = EventFile.Scalars(events, "train/step_loss");
        Assert.Equal(Enumerable.Range(1, stepLosses.Count).Select(i => (long)i), stepLosses.Select(x => x.Step));
        Assert.True(stepLosses.Count > 1);
    }

    static EventFile.Msg Histogram(IEnumerable<EventFile.Event> events, string tag) =>
        events.SelectMany(e => e.Values).Single(v => v.Tag == tag).Value.Message(5);
}
