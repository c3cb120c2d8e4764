using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Pruning;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>YAML specs: expansion order, merging, normalization to stable ids, validation messages, dataset fallback.</summary>
[Collection(DataEnvironmentCollection.Name)]
public class SpecLoaderTests
{
    const string File = "configs/x.yaml";

    static SweepSpec Parse(string yaml, string scale = "full", string? dataDir = null, bool requireData = true) =>
        SpecLoader.Parse(yaml, File, scale, dataDir, requireData);

    static string Error(string yaml, string scale = "full")
    {
        var e = Assert.Throws<InitPruneException>(() => Parse(yaml, scale));
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith(File + ": ", e.Message);
        return e.Message;
    }

    const string Grid = """
        name: grid-test
        data: {name: ellipse}
        model: {name: mlp, depth: 2, width: 8}
        prune: {method: snip, sparsity: [0.1, 0.5, 0.9]}
        train: {epochs: 1}
        seeds: [0, 1]
        variants:
          - label: Ordered
            init: {name: normal, sigma_w: 0.8}
          - label: EOC + rescaling
            init: {name: eoc}
            prune: {rescale: eoc}
        """;

    [Fact]
    public void ExpandsVariantsThenFieldsThenSeedsInOrder()
    {
        var spec = Parse(Grid);
        Assert.Equal(12, spec.Entries.Count);
        var expected = from label in new[] { "Ordered", "EOC + rescaling" }
                       from sparsity in new[] { "0.1", "0.5", "0.9" }
                       from seed in new[] { "0", "1" }
                       select (label, sparsity, seed);
        Assert.Equal(expected, spec.Entries.Select(e => (e.Label, e.Coordinates["prune.sparsity"], e.Coordinates["seed"])));
        Assert.All(spec.Entries.Take(6), e => Assert.Equal(0.8, e.Config.Init.SigmaW));
        Assert.All(spec.Entries.Skip(6), e => Assert.Equal(("eoc", "eoc"), (e.Config.Init.Name, e.Config.Prune.Rescale)));
        Assert.Equal([0L, 1L], spec.Entries.Take(2).Select(e => e.Config.Seed));
        Assert.Equal("grid-test@full", spec.Key);
        Assert.Equal(12, spec.DistinctRuns.Count);
        Assert.Equal(spec.Entries.Select(e => e.Config.Id), Parse(Grid).Entries.Select(e => e.Config.Id));
    }

    [Fact]
    public void LaterFieldsVaryFasterThanEarlierOnes()
    {
        var spec = Parse("""
            name: order
            data: {name: ellipse}
            model: {name: mlp, depth: [2, 3], width: 8}
            prune: {method: [random, magnitude], sparsity: 0.5}
            train: {epochs: 1, lr: [0.1, 0.01]}
            seeds: 1
            """);
        Assert.Equal(
            ["2 random 0.1", "2 random 0.01", "2 magnitude 0.1", "2 magnitude 0.01", "3 random 0.1", "3 random 0.01", "3 magnitude 0.1", "3 magnitude 0.01"],
            spec.Entries.Select(e => $"{e.Coordinates["model.depth"]} {e.Coordinates["prune.method"]} {e.Coordinates["train.lr"]}"));
        Assert.Equal(["random", "random", "magnitude", "magnitude"], spec.Entries.Take(4).Select(e => e.Label));
    }

    [Fact]
    public void LabelIsTheMethodPlusRescalingWithoutVariants()
    {
        var spec = Parse("""
            name: labels
            data: {name: ellipse}
            model: {name: mlp}
            prune: {method: SNIP, sparsity: [0, 0.5], rescale: [none, eoc]}
            train: {epochs: 1}
            """);
        Assert.Equal(["snip", "snip + eoc", "snip", "snip + eoc"], spec.Entries.Select(e => e.Label));
        Assert.Equal("snip", spec.Entries[0].Coordinates["prune.method"]);
        Assert.Equal("none", spec.Entries[0].Config.Prune.Method);
        Assert.Equal(spec.Entries[0].Config.Id, spec.Entries[1].Config.Id);
    }

    [Fact]
    public void CoordinatesHoldEveryLeafBeforeNormalization()
    {
        var e = Parse("""
            name: coords
            data: {name: Ellipse}
            model: {name: mlp, depth: 3, width: 8, activation: Tanh}
            init: {name: normal, sigma_w: 1.1, sigma_b: 0.05}
            prune: {method: random, sparsity: 0.3, iterations: 7}
            train: {epochs: 2, schedule: step, milestones: [0.5, 0.75]}
            seeds: [4]
            """).Entries.Single();
        Assert.Equal(2 + SpecSchema.Fields.Count, e.Coordinates.Count);
        Assert.Equal("random", e.Coordinates["label"]);
        Assert.Equal("4", e.Coordinates["seed"]);
        Assert.Equal("ellipse", e.Coordinates["data.name"]);
        Assert.Equal("null", e.Coordinates["data.fallback"]);
        Assert.Equal("tanh", e.Coordinates["model.activation"]);
        Assert.Equal("0.3", e.Coordinates["prune.sparsity"]);
        Assert.Equal("0.05", e.Coordinates["init.sigma_b"]);
        Assert.Equal("7", e.Coordinates["prune.iterations"]);
        Assert.Equal(100, e.Config.Prune.MethodOptions.Integer(SynFlowScorer.Iterations));
        Assert.Equal("[0.5, 0.75]", e.Coordinates["train.milestones"]);
        Assert.Equal("true", e.Coordinates["model.bias"]);
        Assert.Equal("0.1", e.Coordinates["train.lr"]);
    }

    [Fact]
    public void PowersOfTenExpandToExactDecimals()
    {
        var spec = Parse("""
            name: lrs
            data: {name: ellipse}
            model: {name: mlp}
            train: {epochs: 1, lr: {powers_of_ten: [-3, 0]}, batch_size: {powers_of_ten: [1, 2]}}
            """);
        Assert.Equal([0.001, 0.001, 0.01, 0.01, 0.1, 0.1, 1.0, 1.0], spec.Entries.Select(e => e.Config.Train.Lr));
        Assert.Equal(["0.001", "0.001", "0.01", "0.01", "0.1", "0.1", "1", "1"], spec.Entries.Select(e => e.Coordinates["train.lr"]));
        Assert.Equal([10, 100, 10, 100, 10, 100, 10, 100], spec.Entries.Select(e => e.Config.Train.BatchSize));
    }

    const string Scaled = """
        name: scaled
        data: {name: ellipse}
        model: {name: mlp, depth: [2, 20, 40], width: 8}
        prune: {method: random, sparsity: [0.5, 0.9]}
        train: {max_steps: 100, lr: 0.1}
        seeds: 3
        variants:
          - label: A
            init: {sigma_w: 0.8}
          - label: B
            model: {depth: [60]}
            train: {lr: 0.5}
        scales:
          smoke:
            model: {depth: [2, 5]}
            train: {max_steps: 8}
            seeds: [0]
          full:
            model: {width: 16}
        """;

    [Fact]
    public void ScaleMergesOverTheBaseAndOverEveryVariant()
    {
        var smoke = Parse(Scaled, "smoke");
        Assert.Equal("scaled@smoke", smoke.Key);
        Assert.Equal(2 * 2 * 2 * 1, smoke.Entries.Count);
        Assert.All(smoke.Entries, e => Assert.Equal(0L, e.Config.Seed));
        Assert.All(smoke.Entries, e => Assert.Equal(8, e.Config.Train.MaxSteps));
        Assert.Equal(["2", "5"], smoke.Entries.Where(e => e.Label == "B").Select(e => e.Coordinates["model.depth"]).Distinct());
        Assert.All(smoke.Entries.Where(e => e.Label == "B"), e => Assert.Equal(0.5, e.Config.Train.Lr));
        Assert.All(smoke.Entries.Where(e => e.Label == "A"), e => Assert.Equal(0.8, e.Config.Init.SigmaW));
        Assert.All(smoke.Entries, e => Assert.Equal(8, e.Config.Model.Width));

        var full = Parse(Scaled);
        Assert.Equal((3 * 2 * 3) + (1 * 2 * 3), full.Entries.Count);
        Assert.All(full.Entries, e => Assert.Equal(16, e.Config.Model.Width));
        Assert.All(full.Entries.Where(e => e.Label == "B"), e => Assert.Equal(60, e.Config.Model.Depth));
        Assert.Equal(["0", "1", "2"], full.Entries.Take(3).Select(e => e.Coordinates["seed"]));
    }

    [Fact]
    public void DenseRunsOfDifferentMethodsShareOneRun()
    {
        var spec = Parse("""
            name: dense
            data: {name: ellipse}
            model: {name: mlp, depth: 2, width: 8}
            prune: {method: [snip, random, synflow, grasp], sparsity: [0, 0.5], scope: layer-wise, rescale: eoc, temperature: 50, iterations: 3}
            train: {epochs: 1}
            """);
        var dense = spec.Entries.Where(e => e.Coordinates["prune.sparsity"] == "0").ToList();
        Assert.Equal(4, dense.Count);
        Assert.Single(dense.Select(e => e.Config.Id).Distinct());
        Assert.Equal(new PruneSettings(), dense[0].Config.Prune);
        Assert.Equal(["snip + eoc", "random + eoc", "synflow + eoc", "grasp + eoc"], dense.Select(e => e.Label));
        Assert.Equal(5, spec.DistinctRuns.Count);
        Assert.Equal(dense[0].Config.Id, spec.DistinctRuns[0].Id);

        var grasp = spec.Entries.Single(e => e.Label.StartsWith("grasp", StringComparison.Ordinal) && e.Config.Prune.Sparsity == 0.5).Config.Prune;
        Assert.Equal(new PruneSettings("grasp", 0.5, "layer-wise", "eoc", Options: MethodOptions.Default.With(GraspScorer.Temperature, 50.0).With(MultiShotScorer.Iterations, 3)), grasp);
        var synflow = spec.Entries.Single(e => e.Label.StartsWith("synflow", StringComparison.Ordinal) && e.Config.Prune.Sparsity == 0.5).Config.Prune;
        Assert.Equal(new PruneSettings("synflow", 0.5, "layer-wise", "eoc", Options: MethodOptions.Default.With(SynFlowScorer.Iterations, 3)), synflow);
    }

    static string IdOf(string method, int iterations, int scoreBatch = 100) => Parse($$"""
        name: ids
        data: {name: ellipse}
        model: {name: mlp}
        prune: {method: {{method}}, sparsity: 0.9, iterations: {{iterations}}, score_batch_size: {{scoreBatch}}}
        train: {epochs: 1}
        """).Entries.Single().Config.Id;

    [Fact]
    public void OnlyOptionsTheMethodReadsChangeItsId()
    {
        Assert.Equal(IdOf("random", 100), IdOf("random", 10));
        Assert.NotEqual(IdOf("snip", 1), IdOf("snip", 10));
        Assert.NotEqual(IdOf("synflow", 100), IdOf("synflow", 10));
        Assert.NotEqual(IdOf("snip", 100, 100), IdOf("snip", 100, 50));
        Assert.Equal(IdOf("synflow", 100, 100), IdOf("synflow", 100, 50));
        Assert.Equal(IdOf("magnitude", 100, 100), IdOf("magnitude", 7, 50));
    }

    [Fact]
    public void NamedModelsIgnoreDepthWidthAndShortcutSettings()
    {
        var spec = Parse("""
            name: named
            data: {name: ellipse}
            model: {name: [vgg16-bn, resnet20, LeNet-300-100], depth: [2, 5], width: [8, 9], shortcut: A, padding: circular}
            train: {epochs: 1}
            """);
        Assert.Equal(12, spec.Entries.Count);
        Assert.Equal(3, spec.DistinctRuns.Count);
        Assert.All(spec.DistinctRuns, c => Assert.Null(c.Model.Depth));
        Assert.All(spec.DistinctRuns, c => Assert.Null(c.Model.Width));
        Assert.Equal([("vgg16-bn", "B", "circular"), ("resnet20", "A", "circular"), ("lenet300", "B", "zeros")],
            spec.DistinctRuns.Select(c => (c.Model.Name, c.Model.Shortcut, c.Model.Padding)));
    }

    [Fact]
    public void IdsEqualThoseOfHandBuiltRunConfigs()
    {
        var spec = Parse("""
            name: stable-ids
            data: {name: shifted_relu, train_subset: 1000, validation: 100}
            model: {name: mlp, depth: 4, width: 32, activation: tanh}
            init: {name: normal, sigma_w: 1.2, sigma_b: 0.1, eta: 0.3}
            prune: {method: [snip, imp], sparsity: 0.75, scope: layerwise, iterations: 9, rounds: 2}
            train: {lr: 0.01, momentum: 0, nesterov: true, schedule: none, milestones: [0.5], gamma: 0.5, epochs: 3, batch_size: 50}
            seeds: [5]
            """);
        var data = new DataSettings("shifted-relu", 1000, null, 100, "none");
        var model = new ModelSettings("mlp", 4, 32, "tanh");
        var init = new InitSettings("normal", 1.2, 0.1);
        var train = new TrainSettings(Lr: 0.01, Momentum: 0, Epochs: 3, BatchSize: 50);
        // iterations reaches snip (multi-shot) and is normalized away for imp, which does not read it.
        var snip = new RunConfig(data, model, init, new PruneSettings("snip", 0.75, "layer-wise", Options: MethodOptions.Default.With(MultiShotScorer.Iterations, 9)), train, 5);
        var imp = new RunConfig(data, model, init, new PruneSettings("imp", 0.75, "layer-wise", Options: MethodOptions.Default.With(IterativeMagnitudePruning.Rounds, 2).Complete(IterativeMagnitudePruning.Info)), train, 5);
        Assert.Equal([snip.Id, imp.Id], spec.Entries.Select(e => e.Config.Id));
        Assert.Equal([snip, imp], spec.Entries.Select(e => e.Config));
    }

    [Fact]
    public void TrainingSettingsAreNormalized()
    {
        var spec = Parse("""
            name: train-norm
            data: {name: ellipse}
            model: {name: mlp}
            init: {name: correlated, eta: 0.5}
            train: {epochs: 4, momentum: 0.9, nesterov: true, schedule: [step, cosine], gamma: 0.2}
            """);
        Assert.Equal([0.5, 0.75], spec.Entries[0].Config.Train.Milestones!);
        Assert.Equal(0.2, spec.Entries[0].Config.Train.Gamma);
        Assert.Null(spec.Entries[1].Config.Train.Milestones);
        Assert.Equal(0.1, spec.Entries[1].Config.Train.Gamma);
        Assert.True(spec.Entries[0].Config.Train.Nesterov);
        Assert.Equal(0.5, spec.Entries[0].Config.Init.Eta);
    }

    [Fact]
    public void PruneOnlyRunsIgnoreTrainingSettings()
    {
        static RunConfig Run(string lr) => Parse($$"""
            name: masks
            data: {name: ellipse}
            model: {name: mlp}
            prune: {method: magnitude, sparsity: 0.5}
            train: {epochs: 0, lr: {{lr}}, max_steps: 100}
            """).Entries.Single().Config;
        Assert.Equal(Run("0.1").Id, Run("0.5").Id);
        Assert.Equal(new TrainSettings(Epochs: 0), Run("0.5").Train);
        Assert.Null(Run("0.5").Train.MaxSteps);
    }

    [Fact]
    public void EpochsFollowFromMaxStepsAndTheTrainingSetSize()
    {
        var spec = Parse("""
            name: steps
            data: {name: [ellipse, mnist], train_subset: [null, 1000], validation: 200}
            model: {name: mlp}
            train: {max_steps: 1000, batch_size: 30}
            """, requireData: false);
        // ceil(1000·30 / n): n = 8000-200, 1000-200, 60000-200, 1000-200.
        Assert.Equal([4, 38, 1, 38], spec.Entries.Select(e => e.Config.Train.Epochs));
        Assert.Equal(["4", "38", "1", "38"], spec.Entries.Select(e => e.Coordinates["train.epochs"]));
        Assert.All(spec.Entries, e => Assert.Equal(1000, e.Config.Train.MaxSteps));
    }

    [Fact]
    public void SeedCountMeansZeroToNMinusOne()
    {
        var spec = Parse("name: seeds\ndata: {name: ellipse}\ntrain: {epochs: 1}\nseeds: 4\n");
        Assert.Equal([0L, 1L, 2L, 3L], spec.Entries.Select(e => e.Config.Seed));
        Assert.Equal([0L], Parse("name: seeds\ndata: {name: ellipse}\ntrain: {epochs: 1}\n").Entries.Select(e => e.Config.Seed));
    }

    [Fact]
    public void ReportLayoutIsReadAndDefaultsToADepthHeatmap()
    {
        var explicitLayout = Parse("""
            name: report
            data: {name: ellipse, validation: 100}
            model: {name: mlp, depth: [2, 3]}
            train: {epochs: 1, lr: [0.1, 0.01]}
            report: {rows: model.depth, columns: prune.sparsity, heatmap: {x: train.lr, y: model.depth},
                     select: {over: train.lr, by: validation_accuracy}, metric: test_loss}
            """).Layout;
        Assert.Equal(new ReportLayout("model.depth", "prune.sparsity", "train.lr", "model.depth", "train.lr", "validation_accuracy", "test_loss"), explicitLayout);

        var byDefault = Parse("name: d\ndata: {name: ellipse}\nmodel: {depth: [2, 3]}\ntrain: {epochs: 1}\n").Layout;
        Assert.Equal(new ReportLayout(HeatmapX: "prune.sparsity", HeatmapY: "model.depth"), byDefault);
        Assert.Equal(new ReportLayout(), Parse("name: d\ndata: {name: ellipse}\ntrain: {epochs: 1}\n").Layout);
    }

    [Fact]
    public void ChoosingAnLrByValidationAccuracyNeedsAValidationSplit()
    {
        const string grid = "name: g\ndata: {name: ellipse}\ntrain: {epochs: 1, lr: [0.1, 0.01]}\nreport: {select: {over: train.lr, by: validation_accuracy}}\n";
        Assert.Contains("report asks for validation_accuracy but data.validation is 0", Error(grid));
        Assert.Equal(2, Parse(grid.Replace("{name: ellipse}", "{name: ellipse, validation: 100}")).Entries.Count);
        // A grid of one value selects nothing, so it needs no validation split.
        Assert.Single(Parse(grid.Replace("lr: [0.1, 0.01]", "lr: 0.1")).Entries);
    }

    const string Valid = "name: bad\ndata: {name: ellipse}\nmodel: {name: mlp}\nprune: {method: snip, sparsity: 0.5}\ntrain: {epochs: 1}\n";

    [Theory]
    [InlineData("prune: {method: snip, sparsity: [0.5, 1.5]}", "prune.sparsity = 1.5 is impossible (line 5): use a value in [0, 1)")]
    [InlineData("train:\n  epochs: 1\n  learning_rate: 0.1", "unknown field 'train.learning_rate' (line 7): use one of lr, momentum")]
    [InlineData("model: {name: resnet33}", "model.name = 'resnet33' is unknown")]
    [InlineData("model: {name: transformer}", "model.name = 'transformer' is unknown (line 5): use one of mlp, lenet300")]
    [InlineData("model: {name: mlp, activation: swish}", "model.activation = 'swish' is unknown")]
    [InlineData("model: {name: mlp, depth: -1}", "model.depth = -1 is impossible")]
    [InlineData("model: {name: vgg11, stable: true}", "model.stable = true is impossible")]
    [InlineData("data: {name: imagenet21k}", "data.name = 'imagenet21k' is unknown")]
    [InlineData("data: {name: ellipse, validation: 8000}", "data.validation = 8000 is impossible")]
    [InlineData("data: {name: ellipse, augment: mixup}", "data.augment = 'mixup' is unknown")]
    [InlineData("init: {name: kaiming}", "init.name = 'kaiming' is unknown")]
    [InlineData("init: {sigma_w: -1}", "init.sigma_w = -1 is impossible")]
    [InlineData("init: {sigma_w: 0}\nprune: {method: wlth, sparsity: 0.5}", "prune: ")]
    [InlineData("prune: {method: snap, sparsity: 0.5}", "prune.method = 'snap' is unknown")]
    [InlineData("prune: {method: snip, sparsity: 0.5, rescale: eok}", "prune.rescale = 'eok' is unknown")]
    [InlineData("prune: {method: snip, sparsity: 0.5, scope: local}", "prune.scope = 'local' is unknown")]
    [InlineData("prune: {method: seed003-random, sparsity: 0.5, alpha: 2}", "prune.alpha = 2 is impossible")]
    [InlineData("prune: {method: snip, sparsity: []}", "prune.sparsity is an empty list (line 5)")]
    [InlineData("train: {epochs: 1, lr: -0.1}", "train.lr = -0.1 is impossible")]
    [InlineData("train: {epochs: 1, lr: fast}", "train.lr = 'fast' is not a number (line 5)")]
    [InlineData("train: {epochs: 1.5}", "train.epochs = '1.5' is not an integer")]
    [InlineData("train: {epochs: 1, schedule: linear}", "train.schedule = 'linear' is unknown")]
    [InlineData("train: {epochs: 1, schedule: step, milestones: [0.5, 2]}", "train.milestones = [0.5, 2] is impossible")]
    [InlineData("train: {lr: 0.1}", "train.epochs is missing")]
    [InlineData("train: {epochs: -1}", "train.epochs = -1 is impossible")]
    [InlineData("train: {epochs: 1, lr: {powers_of_ten: [0, -3]}}", "train.lr: powers_of_ten needs [from, to]")]
    [InlineData("seeds: 0", "seeds = '0' is impossible")]
    [InlineData("seeds: [1, 1]", "seeds lists seed 1 twice")]
    [InlineData("optimizer: adam", "unknown field 'optimizer' (line 6)")]
    [InlineData("variants:\n  - label: A\n  - label: A", "label 'A' is used twice (line 8)")]
    [InlineData("variants:\n  - init: {sigma_w: 1}", "variants[].label is missing")]
    [InlineData("variants:\n  - label: A\n    optim: {lr: 1}", "unknown field 'variants[].optim' (line 8)")]
    [InlineData("variants: []", "variants must be a non-empty list")]
    [InlineData("report: {columns: prune.sparsty}", "report.columns = 'prune.sparsty' is not a coordinate path (line 6): use one of label, seed, data.name")]
    [InlineData("report: {heatmap: {x: model.depth, y: depth}}", "report.heatmap.y = 'depth' is not a coordinate path")]
    [InlineData("report: {metric: accuracy}", "report.metric = 'accuracy' is not a metric")]
    [InlineData("report: {heatmap: {x: model.depth}}", "report.heatmap.y is missing")]
    public void InvalidSpecsFailWithOneLineNamingTheField(string tail, string expected)
    {
        var replaced = tail.Split('\n').Where(l => !l.StartsWith(' ')).Select(l => l[..l.IndexOf(':')]).ToHashSet();
        var yaml = string.Join('\n', Valid.TrimEnd().Split('\n').Where(l => !replaced.Contains(l[..l.IndexOf(':')])));
        Assert.Contains(expected, Error(yaml + "\n" + tail + "\n"));
    }

    [Fact]
    public void SyntaxErrorsNameTheLine()
    {
        Assert.Contains("YAML syntax error: the file ends inside a '{...}' or '[...]'", Error("name: bad\ndata: {name: ellipse\ntrain: {epochs: 1}\n"));
        Assert.Contains("configs/x.yaml: YAML syntax error at line 3", Error("name: bad\ntrain: {epochs: 1}\n  seeds: 2\n"));
        Assert.Contains("YAML syntax error at line 3", Error("name: bad\ntrain: {epochs: 1}\ntrain: {epochs: 2}\n"));
    }

    [Fact]
    public void MissingOrBadNamesAreErrors()
    {
        Assert.Contains("name is missing", Error("data: {name: ellipse}\ntrain: {epochs: 1}\n"));
        Assert.Contains("name = 'Bad Name' is not a valid sweep name", Error("name: Bad Name\ndata: {name: ellipse}\ntrain: {epochs: 1}\n"));
        Assert.Contains("a spec is exactly one mapping", Error(""));
    }

    [Fact]
    public void UnknownScaleListsTheAvailableOnes()
    {
        var message = Error(Scaled, "tiny");
        Assert.Contains("unknown scale 'tiny': use one of full, smoke", message);
    }

    [Fact]
    public void MissingDatasetFallsBackWithANote()
    {
        using var empty = new TempDir();
        using var env = new DataEnvironment(null, empty.Path, empty.Path);
        const string yaml = "name: fb\ndata: {name: mnist, fallback: ellipse}\nmodel: {name: mlp}\ntrain: {epochs: 1}\nseeds: 2\n";
        var spec = SpecLoader.Parse(yaml, File);
        Assert.All(spec.Entries, e => Assert.Equal("ellipse", e.Config.Data.Name));
        Assert.All(spec.Entries, e => Assert.Equal("mnist", e.Coordinates["data.name"]));
        Assert.Equal(["ran on ellipse: mnist was not found (pass --data-dir to use it)"], spec.Notes);
        Assert.Equal(spec.Notes, spec.Info.Notes);

        var kept = SpecLoader.Parse("name: kept\ndata: {name: cifar10}\ntrain: {epochs: 1}\n", File, dataDir: empty.Path, requireData: false);
        Assert.Equal("cifar10", kept.Entries.Single().Config.Data.Name);
        Assert.Equal(["cifar10 was not found here"], kept.Notes);

        var e = Assert.Throws<InitPruneException>(() => SpecLoader.Parse("name: gone\ndata: {name: cifar10, fallback: mnist}\ntrain: {epochs: 1}\n", File, dataDir: empty.Path));
        Assert.StartsWith($"{File}: data.name = 'cifar10' and data.fallback = 'mnist' were not found (line 2): cifar10 not found", e.Message);
    }

    [Fact]
    public void A_chosen_data_folder_is_used_or_refused_never_replaced()
    {
        using var dir = new TempDir();
        var system = dir.Sub("system");
        DataFiles.WriteMnistLike(dir.Sub("system/mnist"), [1], [1]);
        DataFiles.WriteMnistLike(dir.Sub("system/fashion-mnist"), [1], [1]);
        var chosen = dir.Sub("chosen");
        DataFiles.WriteMnistLike(dir.Sub("chosen/mnist"), [1], [1]);
        System.IO.File.Delete(Path.Combine(chosen, "mnist", "train-labels-idx1-ubyte"));
        using var env = new DataEnvironment(null, dir.Sub("home"), system);

        var synthetic = Assert.Throws<InitPruneException>(() => SpecLoader.Parse("name: a\ndata: {name: mnist, fallback: ellipse}\ntrain: {epochs: 1}\n", File, dataDir: chosen));
        Assert.StartsWith($"{File}: data.name = 'mnist' was not found (line 2) (the synthetic data.fallback 'ellipse' is not used with --data-dir): " +
            $"mnist not found in --data-dir {chosen}: {Path.Combine(chosen, "mnist")} lacks train-labels-idx1-ubyte(.gz)", synthetic.Message);
        var none = Assert.Throws<InitPruneException>(() => SpecLoader.Parse("name: b\ndata: {name: mnist, fallback: fashion-mnist}\ntrain: {epochs: 1}\n", File, dataDir: chosen));
        Assert.StartsWith($"{File}: data.name = 'mnist' and data.fallback = 'fashion-mnist' were not found (line 2): mnist not found in --data-dir {chosen}", none.Message);
        Assert.DoesNotContain(system, none.Message);

        // A fallback found in the chosen folder itself is still the spec's documented choice, with its note.
        DataFiles.WriteMnistLike(dir.Sub("chosen/fashion-mnist"), [1], [1]);
        var fell = SpecLoader.Parse("name: c\ndata: {name: mnist, fallback: fashion-mnist}\ntrain: {epochs: 1}\n", File, dataDir: chosen);
        Assert.Equal("fashion-mnist", fell.Entries.Single().Config.Data.Name);
        Assert.Equal([$"ran on fashion-mnist: mnist was not found in --data-dir {chosen}"], fell.Notes);
    }

    [Fact]
    public void PresentDatasetIsUsedWithoutANote()
    {
        using var dir = new TempDir();
        using var env = new DataEnvironment(null, dir.Path, dir.Path);
        foreach (var f in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
            System.IO.File.WriteAllBytes(dir.File(f), []);
        var spec = SpecLoader.Parse("name: fb\ndata: {name: MNIST, fallback: ellipse}\ntrain: {epochs: 1}\n", File, dataDir: dir.Path);
        Assert.Equal("mnist", spec.Entries.Single().Config.Data.Name);
        Assert.Empty(spec.Notes);
    }

    [Fact]
    public void LoadReadsAFileAndNamesAMissingOne()
    {
        using var dir = new TempDir();
        var path = dir.File("grid.yaml");
        System.IO.File.WriteAllText(path, Grid);
        var spec = SpecLoader.Load(path, "full");
        Assert.Equal(Path.GetFullPath(path), spec.SourcePath);
        Assert.Equal(Grid, spec.SpecText);
        Assert.Equal(Parse(Grid).Entries.Select(e => e.Config.Id), spec.Entries.Select(e => e.Config.Id));
        var e = Assert.Throws<InitPruneException>(() => SpecLoader.Load(dir.File("nope.yaml")));
        Assert.Contains("nope.yaml: no such spec file", e.Message);
    }
}
