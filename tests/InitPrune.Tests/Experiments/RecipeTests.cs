using System.Runtime.CompilerServices;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// The recipes in <c>configs/</c>: each loads at the full and the smoke scale, expands to the hand-counted grid,
/// and carries the seeds' settings. Data lookup is redirected to empty folders so the results hold on any machine.
/// </summary>
[Collection(DataEnvironmentCollection.Name)]
public class RecipeTests
{
    /// <summary>Runs per recipe, counted by hand from the spec: (full, smoke).</summary>
    static readonly Dictionary<string, (int Full, int Smoke)> Counts = new()
    {
        // 3 variants × 6 depths × 9 sparsities × 4 learning rates × 1 seed; smoke 3 × 3 depths × 3 sparsities.
        ["seed001-fig3-depth-sparsity"] = (3 * 6 * 9 * 4, 3 * 3 * 3),
        ["seed001-fig5-elu"] = (3 * 6 * 9 * 4, 3 * 3 * 3),
        // 4 rescaling targets × 2 depths × 3 seeds; smoke 4 × 1 depth × 1 seed.
        ["seed001-fig3-rescaling-targets"] = (4 * 2 * 3, 4),
        // 5 rescaling readings × 2 depths × 3 seeds; smoke 5 × 1 depth × 1 seed.
        ["seed001-fig3-rescaling-jacobian"] = (5 * 2 * 3, 5),
        // 2 variants, one mask each.
        ["seed001-fig1-neurons"] = (2, 2),
        // 2 variants × 3 sparsities; smoke 1 sparsity.
        ["seed001-fig2-layers"] = (2 * 3, 2),
        // 3 ResNets × (dense + 5 methods × 3 sparsities + SNIP and SBP-SR × 5) × 3 seeds; smoke ResNet32, 1 seed.
        ["seed001-table1-cifar10"] = (3 * (1 + 5 * 3 + 2 * 5) * 3, 1 + 5 * 3 + 2 * 5),
        // 3 ResNets × (dense + 7 methods × 3 sparsities) × 3 seeds.
        ["seed001-table2-cifar100"] = (3 * (1 + 7 * 3) * 3, 1 + 7 * 3),
        // 3 ResNets × 4 methods × 3 sparsities × 3 seeds.
        ["seed001-table3-tiny-imagenet"] = (3 * 4 * 3 * 3, 4 * 3),
        // 3 variants × 3 depths × 4 learning rates × 3 seeds; smoke 3 × 2 depths × 1 lr × 1 seed.
        ["seed001-table4-vcnn"] = (3 * 3 * 4 * 3, 3 * 2),
        // 2 VGGs × 3 variants × 3 sparsities × 3 seeds; smoke VGG16-BN only.
        ["seed001-table5-vgg"] = (2 * 3 * 3 * 3, 3 * 3),
        // 3 ResNets × 4 variants × 5 sparsities × 3 seeds; smoke ResNet32 × 4 × 2 sparsities.
        ["seed001-table9-activations"] = (3 * 4 * 5 * 3, 4 * 2),
        // 2 variants × 6 sparsities (0: the dense reference) × 5 depths × 1 seed; smoke 2 × 3 × 2 × 1.
        ["seed002-fig13-random-pruning"] = (2 * 6 * 5, 2 * 3 * 2),
        // 6 method × rescaling variants × 6 sparsities (0: the dense reference) × 6 depths × 2 seeds; smoke 6 × 3 × 2 depths.
        ["seed002-fig3-jacobian-pruning"] = (6 * 6 * 6 * 2, 6 * 3 * 2),
        // 3 σw² × 5 depths × 1 seed; smoke 3 × 2 depths.
        ["seed002-fig15-trainability-mlp"] = (3 * 5, 3 * 2),
        // 4 η × 5 depths × 3 seeds; smoke 4 × 2 depths × 1 seed.
        ["seed002-fig15-correlated-trainability"] = (4 * 5 * 3, 4 * 2),
        // 8 VGGs (depths 5, 15, 25, 35 ± BN) × 2 σw × 1 seed, at both scales.
        ["seed002-fig16-trainability-vgg"] = (8 * 2, 8 * 2),
        // 3 σw² × 9 depths × 3 seeds; smoke 3 × 2 depths × 1 seed.
        ["seed002-fig1-jacobian-depth"] = (3 * 9 * 3, 3 * 2),
        // 3 depths × 4 learning rates × 2 seeds; smoke 2 × 2 × 1.
        ["seed002-fig2-jacobian-training"] = (3 * 4 * 2, 2 * 2),
        // 7 η × 8 depths × 3 seeds; smoke 7 × 2 depths × 1 seed.
        ["seed002-fig5-correlated-jacobian"] = (7 * 8 * 3, 7 * 2),
        // 2 methods × 2 inits × 2 biases × 5 kept fractions × 5 seeds; smoke 2 × 2 × 2 × 2 fractions × 1 seed.
        ["seed004-fig1-shifted-relu"] = (2 * 2 * 2 * 5 * 5, 2 * 2 * 2 * 2),
        // (2 + 3 kept fractions in two variants) × 2 methods × 2 inits × 2 biases × 5 seeds; smoke 1 seed.
        ["seed004-fig1-ellipse"] = (5 * 2 * 2 * 2 * 5, 5 * 2 * 2 * 2),
    };

    /// <summary>Distinct runs of the recipes whose variants share a dense reference (one per depth and seed).</summary>
    static readonly Dictionary<string, (int Full, int Smoke)> SharedDense = new()
    {
        ["seed002-fig13-random-pruning"] = ((2 * 5 + 1) * 5, (2 * 2 + 1) * 2),
        ["seed002-fig3-jacobian-pruning"] = ((6 * 5 + 1) * 6 * 2, (6 * 2 + 1) * 2),
    };

    public static TheoryData<string> Recipes() => [.. Counts.Keys];

    /// <summary>
    /// The repository's <c>configs/</c>: above the test binaries, or (with <c>--artifacts-path</c> outside the
    /// repository) above this source file.
    /// </summary>
    static string ConfigsDir([CallerFilePath] string source = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(source) ?? "" })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "InitPrune.slnx")))
                    return Path.Combine(dir.FullName, "configs");
        throw new InvalidOperationException($"no InitPrune.slnx above {AppContext.BaseDirectory} or {source}");
    }

    static string Recipe(string name) => Path.Combine(ConfigsDir(), name + ".yaml");

    /// <summary>Points every data search folder at empty temporary folders; <paramref name="dataDir"/> is the --data-dir.</summary>
    sealed class NoData : IDisposable
    {
        readonly TempDir root = new();
        readonly DataEnvironment env;

        public NoData()
        {
            env = new DataEnvironment(root.Sub("env"), root.Sub("home"), root.Sub("system"));
            DataDir = root.Sub("data");
        }

        public string DataDir { get; }

        /// <summary>Puts the four IDX file names of Fashion-MNIST (empty: lookup only checks that they exist) in the data dir.</summary>
        public void AddFashionMnistFiles()
        {
            var folder = Directory.CreateDirectory(Path.Combine(DataDir, "fashion-mnist")).FullName;
            foreach (var f in MnistLike.Files) File.WriteAllBytes(Path.Combine(folder, f), []);
        }

        public void Dispose()
        {
            env.Dispose();
            root.Dispose();
        }
    }

    static SweepSpec Load(string name, string scale, NoData data, bool requireData = false) =>
        SpecLoader.Load(Recipe(name), scale, data.DataDir, requireData);

    [Fact]
    public void EveryConfigIsARecipeWithHandCountedRuns()
    {
        var files = Directory.GetFiles(ConfigsDir(), "*.yaml").Select(Path.GetFileNameWithoutExtension).Order().ToArray();
        Assert.Equal(Counts.Keys.Order().ToArray(), files);
    }

    [Theory]
    [MemberData(nameof(Recipes))]
    public void ExpandsToTheHandCountedGridAtFullAndSmokeScale(string name)
    {
        using var data = new NoData();
        var full = Load(name, "full", data);
        var smoke = Load(name, "smoke", data);
        Assert.Equal(Counts[name].Full, full.Entries.Count);
        Assert.Equal(Counts[name].Smoke, smoke.Entries.Count);
        // Each entry is its own run, except the dense references (sparsity 0) that the variants of a sweep share.
        int Shared(SweepSpec spec) => spec.Entries.Count(e => e.Config.Prune.Method == "none") - spec.Entries.Where(e => e.Config.Prune.Method == "none").Select(e => e.Config.Id).Distinct().Count();
        Assert.Equal(full.Entries.Count - Shared(full), full.DistinctRuns.Count);
        Assert.Equal(smoke.Entries.Count - Shared(smoke), smoke.DistinctRuns.Count);
        if (SharedDense.TryGetValue(name, out var shared)) Assert.Equal(shared, (full.DistinctRuns.Count, smoke.DistinctRuns.Count));
        Assert.InRange(smoke.Entries.Count, 1, 60);
        Assert.Equal(name, full.Name);
        Assert.Equal($"{name}@smoke", smoke.Key);
        Assert.False(string.IsNullOrWhiteSpace(full.Description));
        Assert.StartsWith("seed 00", full.Reproduces);
        Assert.All(smoke.DistinctRuns, r => Assert.Equal(0, r.Seed));
        Assert.All(full.Entries.Concat(smoke.Entries), e => Assert.InRange(e.Config.Prune.Sparsity, 0, 0.999));
    }

    [Theory]
    [MemberData(nameof(Recipes))]
    public void SmokeIsSmallerThanFullInEveryRun(string name)
    {
        using var data = new NoData();
        var full = Load(name, "full", data).DistinctRuns;
        var smoke = Load(name, "smoke", data).DistinctRuns;
        static long Steps(RunConfig r) => r.Train.MaxSteps ?? long.MaxValue;
        Assert.True(smoke.Max(Steps) <= full.Min(Steps));
        Assert.True(smoke.Max(r => r.Train.Epochs) <= full.Max(r => r.Train.Epochs));
        Assert.True(smoke.Max(r => r.Data.TrainSubset ?? int.MaxValue) <= full.Min(r => r.Data.TrainSubset ?? int.MaxValue));
    }

    [Theory]
    [InlineData("seed001-fig1-neurons")]
    [InlineData("seed001-fig3-depth-sparsity")]
    [InlineData("seed001-fig5-elu")]
    [InlineData("seed001-table4-vcnn")]
    [InlineData("seed002-fig1-jacobian-depth")]
    [InlineData("seed002-fig15-trainability-mlp")]
    public void MnistRecipesRunOnFashionMnistWhenMnistIsMissing(string name)
    {
        using var data = new NoData();
        data.AddFashionMnistFiles();
        var spec = Load(name, "smoke", data, requireData: true);
        Assert.All(spec.Entries, e => Assert.Equal("fashion-mnist", e.Config.Data.Name));
        Assert.Contains(spec.Notes, n => n.Contains("fashion-mnist") && n.Contains("mnist was not found"));
    }

    [Fact]
    public void The_vgg_trainability_recipe_runs_on_fashion_mnist_without_cifar10_and_says_so()
    {
        using var data = new NoData();
        data.AddFashionMnistFiles();
        var spec = Load("seed002-fig16-trainability-vgg", "smoke", data, requireData: true);
        Assert.All(spec.Entries, e => Assert.Equal("fashion-mnist", e.Config.Data.Name));
        Assert.All(spec.Entries, e => Assert.Equal("circular", e.Config.Model.Padding));
        Assert.Contains(spec.Notes, n => n.Contains("ran on fashion-mnist") && n.Contains("cifar10 was not found"));
        Assert.Equal(["vgg15", "vgg15-bn", "vgg25", "vgg25-bn", "vgg35", "vgg35-bn", "vgg5", "vgg5-bn"],
            spec.Entries.Select(e => e.Config.Model.Name).Distinct().Order());
    }

    [Theory]
    [InlineData("seed001-table1-cifar10", "cifar10")]
    [InlineData("seed001-table2-cifar100", "cifar100")]
    [InlineData("seed001-table3-tiny-imagenet", "tiny-imagenet")]
    [InlineData("seed001-table5-vgg", "cifar10")]
    [InlineData("seed001-table9-activations", "cifar10")]
    [InlineData("seed001-fig2-layers", "cifar10")]
    public void UserDataRecipesSayWhichDatasetIsMissing(string name, string dataset)
    {
        using var data = new NoData();
        data.AddFashionMnistFiles();
        var error = Assert.Throws<InitPruneException>(() => Load(name, "smoke", data, requireData: true));
        Assert.Contains(dataset, error.Message);
        var spec = Load(name, "smoke", data);
        Assert.All(spec.Entries, e => Assert.Equal(dataset, e.Config.Data.Name));
        Assert.Contains(spec.Notes, n => n.Contains(dataset) && n.Contains("not found"));
    }

    /// <summary>
    /// The rescaling-jacobian recipe's "σw² target at the EOC" variant: init normal at tanh's Edge of Chaos for σ_b = 0.05
    /// (the same draws as init eoc, so the same masks), and the σw² = 2 variant, whose target is given explicitly.
    /// </summary>
    [Fact]
    public void The_rescaling_jacobian_recipe_takes_the_sigma_w_target_at_the_edge_of_chaos()
    {
        using var data = new NoData();
        var runs = Load("seed001-fig3-rescaling-jacobian", "full", data).DistinctRuns;
        var atEoc = runs.Where(r => r.Init.Name == "normal").ToList();
        Assert.Equal(6, atEoc.Count);
        double eoc = InitPrune.Theory.EdgeOfChaos.SigmaW("tanh", 0.05);
        Assert.All(atEoc, r => Assert.Equal(eoc, r.Init.SigmaW, 9));
        Assert.All(atEoc, r => Assert.Equal("eoc-sigma-w", r.Prune.Rescale));
        Assert.All(runs, r => Assert.Equal(500, r.Train.JacobianEvery));
        var two = runs.Single(r => r.Init.Name == "eoc" && r.Prune.Rescale == "eoc-sigma-w" && r.Model.Depth == 100 && r.Seed == 0);
        Assert.Equal(Math.Sqrt(2), two.ToPruneSpec().Rescale!.SigmaW!.Value, 12);
        Assert.Equal(eoc, atEoc[0].ToPruneSpec().Rescale!.SigmaW!.Value, 9);
    }

    [Fact]
    public void Fig3HasThePapersGridAndTrainsTenThousandSteps()
    {
        using var data = new NoData();
        var full = Load("seed001-fig3-depth-sparsity", "full", data);
        var runs = full.DistinctRuns;
        Assert.Equal(new int?[] { 2, 20, 40, 60, 80, 100 }, runs.Select(r => r.Model.Depth).Distinct().Order());
        Assert.Equal(new[] { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 }, runs.Select(r => r.Prune.Sparsity).Distinct().Order());
        Assert.Equal(new[] { 1e-4, 1e-3, 1e-2, 1e-1 }, runs.Select(r => r.Train.Lr).Distinct().Order());
        Assert.All(runs, r =>
        {
            Assert.Equal(("mlp", 100, "tanh"), (r.Model.Name, r.Model.Width, r.Model.Activation));
            Assert.Equal(("snip", 10000, 100, 0.0), (r.Prune.Method, r.Train.MaxSteps, r.Train.BatchSize, r.Train.Momentum));
            // ⌈10000 steps · 100 / (60000 − 5000 held out)⌉ = 19 epochs.
            Assert.Equal(19, r.Train.Epochs);
            Assert.Equal(5000, r.Data.Validation);
        });
        Assert.Equal(new[] { "EOC + rescaling", "EOC", "Ordered" }, full.Entries.Select(e => e.Label).Distinct());
        Assert.All(full.Entries, e =>
        {
            var (init, rescale) = (e.Config.Init, e.Config.Prune.Rescale);
            Assert.Equal(0.05, init.SigmaB);
            Assert.Equal(e.Label == "Ordered" ? ("normal", 0.8) : ("eoc", init.SigmaW), (init.Name, init.SigmaW));
            Assert.Equal(e.Label == "EOC + rescaling" ? "eoc" : "none", rescale);
        });
        Assert.Equal(("label", "prune.sparsity", "prune.sparsity", "model.depth", "train.lr", "validation_accuracy"),
            (full.Layout.Rows, full.Layout.Columns, full.Layout.HeatmapX, full.Layout.HeatmapY, full.Layout.SelectOver, full.Layout.SelectBy));
    }

    [Fact]
    public void Fig3SmokeIsTheAcceptanceGrid()
    {
        using var data = new NoData();
        var runs = Load("seed001-fig3-depth-sparsity", "smoke", data).DistinctRuns;
        Assert.Equal(new int?[] { 2, 10, 30 }, runs.Select(r => r.Model.Depth).Distinct().Order());
        Assert.Equal(new[] { 0.1, 0.5, 0.9 }, runs.Select(r => r.Prune.Sparsity).Distinct().Order());
        Assert.All(runs, r =>
        {
            Assert.Equal((10000, 2000, 1000), (r.Data.TrainSubset, r.Data.TestSubset, r.Data.Validation));
            Assert.Equal((500, 0.01), (r.Train.MaxSteps, r.Train.Lr));
            // ⌈500 · 100 / (10000 − 1000)⌉ = 6 epochs.
            Assert.Equal(6, r.Train.Epochs);
        });
    }

    [Fact]
    public void Fig3DeepScaleTrainsAsThePaperAtTheDeepEnd()
    {
        using var data = new NoData();
        var spec = Load("seed001-fig3-depth-sparsity", "deep", data);
        // 3 variants × 3 depths × 2 sparsities, one learning rate.
        Assert.Equal(3 * 3 * 2, spec.DistinctRuns.Count);
        Assert.Equal(new int?[] { 30, 60, 100 }, spec.DistinctRuns.Select(r => r.Model.Depth).Distinct().Order());
        Assert.Equal(new[] { 0.5, 0.9 }, spec.DistinctRuns.Select(r => r.Prune.Sparsity).Distinct().Order());
        Assert.All(spec.DistinctRuns, r =>
        {
            Assert.Equal((10000, 100, 0.001, 5000), (r.Train.MaxSteps, r.Train.BatchSize, r.Train.Lr, r.Data.Validation));
            Assert.Equal((0, 0), (r.Data.TrainSubset ?? 0, r.Data.TestSubset ?? 0));
        });
    }

    [Fact]
    public void CifarResNetTablesFollowTheGraspSetup()
    {
        using var data = new NoData();
        var entries = Load("seed001-table1-cifar10", "full", data).Entries;
        Assert.All(entries, e =>
        {
            var t = e.Config.Train;
            Assert.Equal((160, 0.1, 0.9, 1e-4, "step", 128), (t.Epochs, t.Lr, t.Momentum, t.WeightDecay, t.Schedule, t.BatchSize));
            Assert.Equal(new[] { 0.5, 0.75 }, t.Milestones!);
            Assert.Equal(("crop-flip", 2.0, "kaiming-normal"), (e.Config.Data.Augment, e.Config.Model.WidthMultiplier, e.Config.Init.Name));
            Assert.Equal(e.Label is "SBP-SR" or "GraSP-SR", e.Config.Model.Stable);
        });
        Assert.Equal(9, entries.Count(e => e.Config.Prune.Method == "none"));
        Assert.Equal(new[] { 0.9, 0.95, 0.98, 0.995, 0.999 },
            entries.Where(e => e.Label == "SBP-SR").Select(e => e.Config.Prune.Sparsity).Distinct().Order());
        Assert.Equal(new[] { "resnet104", "resnet32", "resnet50" }, entries.Select(e => e.Config.Model.Name).Distinct().Order());
        Assert.All(Load("seed001-table2-cifar100", "full", data).Entries, e => Assert.Equal(250, e.Config.Train.Epochs));
        Assert.All(Load("seed001-table3-tiny-imagenet", "full", data).Entries, e => Assert.Equal(300, e.Config.Train.Epochs));
    }

    [Theory]
    [InlineData("seed001-fig1-neurons")]
    [InlineData("seed001-fig2-layers")]
    public void MaskFiguresOnlyPrune(string name)
    {
        using var data = new NoData();
        foreach (var scale in new[] { "full", "smoke" })
            Assert.All(Load(name, scale, data).Entries, e => Assert.Equal(0, e.Config.Train.Epochs));
    }

    [Fact]
    public void Fig1PrunesADepth100Width100NetworkToSeventyPercent()
    {
        using var data = new NoData();
        var entries = Load("seed001-fig1-neurons", "full", data).Entries;
        Assert.All(entries, e => Assert.Equal((100, 100, "snip", 0.7), (e.Config.Model.Depth, e.Config.Model.Width, e.Config.Prune.Method, e.Config.Prune.Sparsity)));
        Assert.Equal(new[] { ("Edge of Chaos", "eoc"), ("Chaotic phase", "normal") }, entries.Select(e => (e.Label, e.Config.Init.Name)));
        Assert.Equal(2.0, entries[1].Config.Init.SigmaW);
    }

    [Fact]
    public void VcnnTableHasFiftyPercentSparsityAndDepthColumns()
    {
        using var data = new NoData();
        var spec = Load("seed001-table4-vcnn", "full", data);
        Assert.All(spec.Entries, e => Assert.Equal(("vcnn", 0.5, "snip"), (e.Config.Model.Name, e.Config.Prune.Sparsity, e.Config.Prune.Method)));
        Assert.Equal(new int?[] { 10, 50, 100 }, spec.Entries.Select(e => e.Config.Model.Depth).Distinct().Order());
        Assert.Equal("model.depth", spec.Layout.Columns);
        // ⌈150 · 100 / (5000 − 500)⌉ = 4 epochs.
        Assert.All(Load("seed001-table4-vcnn", "smoke", data).Entries, e => Assert.Equal(4, e.Config.Train.Epochs));
    }

    [Fact]
    public void Seed002RescalesRandomPruningLayerByLayer()
    {
        using var data = new NoData();
        var entries = Load("seed002-fig13-random-pruning", "full", data).Entries;
        Assert.All(entries.Where(e => e.Config.Prune.Sparsity == 0), e => Assert.Equal("none", e.Config.Prune.Method));
        Assert.All(entries.Where(e => e.Config.Prune.Sparsity > 0), e =>
        {
            Assert.Equal(("random", "layer-wise", 256), (e.Config.Prune.Method, e.Config.Prune.Scope, e.Config.Model.Width));
            Assert.Equal(2.0, e.Config.Init.SigmaW * e.Config.Init.SigmaW, 12);
            Assert.Equal(e.Label == "with normalization" ? "random" : "none", e.Config.Prune.Rescale);
        });
    }
}
