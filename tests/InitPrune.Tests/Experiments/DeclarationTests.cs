using System.Globalization;
using InitPrune.Cli.Commands;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using InitPrune.Theory;
using InitPrune.Training;

namespace InitPrune.Tests.Experiments;

/// <summary>Each option is declared once; the command line, specs, defaults, run ids and docs all follow from it.</summary>
public class DeclarationTests
{
    const string Base = "--dataset ellipse --model mlp --depth 2 --width 16 --init normal --sigma-w 2";

    static (PruneSpec Spec, int ScoreBatch, TrainConfig? Train) FromCli(string args)
    {
        var command = new PruneCommand();
        var parsed = command.Command.Parse(args.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(parsed.Errors);
        var o = command.Read(parsed);
        return (o.Prune, o.ScoreBatchSize, o.Train);
    }

    static RunConfig FromSpec(string prune, string train = "{epochs: 0}")
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.yaml");
        File.WriteAllText(path, $"name: s\ndata: {{name: ellipse}}\nmodel: {{name: mlp, depth: 2, width: 16}}\ninit: {{name: normal, sigma_w: 2}}\nprune: {prune}\ntrain: {train}\n");
        return SpecLoader.Load(path, "full", null).Entries.Single().Config;
    }

    /// <summary>A value of <paramref name="p"/> other than its default, inside its range.</summary>
    static object Other(Param p) => p.Kind switch
    {
        ParamKind.Integer => (int)p.Default! + 1 <= p.Max ? (int)p.Default! + 1 : (int)p.Default! - 1,
        ParamKind.Number => (double)p.Default! / 2,
        ParamKind.Text when p.Choices is { Count: > 1 } choices => choices.First(c => c != (string?)p.Default),
        _ => throw new InvalidOperationException($"add a case for {p.Kind}"),
    };

    static string Text(object v) => Convert.ToString(v, CultureInfo.InvariantCulture)!;

    public static TheoryData<string, string?> MethodOptionCases()
    {
        var cases = new TheoryData<string, string?>();
        foreach (var m in PrunerRegistry.Methods)
        {
            cases.Add(m.Name, null);
            foreach (var p in m.Options) cases.Add(m.Name, p.Key);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(MethodOptionCases))]
    public void The_command_line_and_a_spec_build_the_same_pruning_spec(string method, string? option)
    {
        var info = PrunerRegistry.Get(method);
        var p = option is null ? null : info.Options.Single(o => o.Key == option);
        var cli = FromCli($"{Base} --method {method} --sparsity 0.5 --scope layer" + (p is null ? "" : $" {p.Flag} {Text(Other(p))}"));
        var config = FromSpec($"{{method: {method}, sparsity: 0.5, scope: layer_wise{(p is null ? "" : $", {p.Key}: {Text(Other(p))}")}}}",
            info.Trains ? "{epochs: 0, lr: 0.1, batch_size: 100}" : "{epochs: 0}");

        var spec = config.ToPruneSpec();
        Assert.Equal(spec, cli.Spec);
        Assert.Equal(PruneScope.LayerWise, cli.Spec.Scope);
        if (p is not null) Assert.Equal(Text(Other(p)), Text(cli.Spec.Options!.Get(p)));
        Assert.Equal(config.Prune.ScoreBatchSize, cli.ScoreBatch);
        if (info.Trains && !InitPrune.Tickets.EdgePopupMethod.Is(method))
        {
            var rounds = (cli.Spec.Options ?? MethodOptions.Default).Integer(IterativeMagnitudePruning.RoundEpochs);
            Assert.Equal(IterativeMagnitudePruning.RoundRecipe(config.ToTrainConfig(), rounds), IterativeMagnitudePruning.RoundRecipe(cli.Train!, rounds), TrainConfigComparer.Instance);
        }
    }

    [Fact]
    public void An_option_of_another_method_or_a_missing_sparsity_is_refused_on_the_command_line()
    {
        var e = Assert.Throws<InitPruneException>(() => FromCli($"{Base} --method snip --sparsity 0.9 --temperature 100"));
        Assert.Equal("--temperature does nothing for method 'snip': it is an option of grasp, grasp-sr", e.Message);
        e = Assert.Throws<InitPruneException>(() => FromCli($"{Base} --method snip --sparsity 0.9 --lr 0.01"));
        Assert.Contains("--lr does nothing for method 'snip'", e.Message);
        e = Assert.Throws<InitPruneException>(() => FromCli($"{Base} --method snip"));
        Assert.Contains("needs --sparsity", e.Message);
        Assert.Equal(0, FromCli($"{Base} --method wlth").Spec.Sparsity);
        e = Assert.Throws<InitPruneException>(() => FromCli($"{Base} --method grasp --sparsity 0.9 --temperature -1"));
        Assert.Equal("--temperature -1 is impossible: use a finite value > 0", e.Message);
    }

    [Theory]
    [InlineData("--model lenet300 --depth 3", "--depth does nothing for --model lenet300: it applies to mlp, vcnn")]
    [InlineData("--model mlp --padding circular", "--padding does nothing for --model mlp: it applies to vcnn, conv*, vgg*, 3xvgg*, resnet*")]
    [InlineData("--model vgg11 --shortcut A", "--shortcut does nothing for --model vgg11: it applies to resnet*")]
    [InlineData("--init normal --eta 0.5", "--eta does nothing for --init normal: it applies to correlated")]
    public void An_option_of_another_model_or_initialization_is_refused_on_the_command_line(string args, string expected)
    {
        var command = new PruneCommand();
        var parsed = command.Command.Parse($"--dataset cifar10 --method random --sparsity 0.5 {args}".Split(' '));
        Assert.Equal(expected, Assert.Throws<InitPruneException>(() => command.Read(parsed)).Message);
    }

    [Fact]
    public void A_spec_normalizes_options_of_another_model_or_initialization_away()
    {
        var plain = FromSpec("{method: snip, sparsity: 0.5}");
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.yaml");
        File.WriteAllText(path, "name: s\ndata: {name: ellipse}\nmodel: {name: mlp, depth: 2, width: 16, padding: circular, shortcut: A}\ninit: {name: normal, sigma_w: 2, eta: 0.5}\nprune: {method: snip, sparsity: 0.5}\ntrain: {epochs: 0}\n");
        Assert.Equal(plain.Id, SpecLoader.Load(path, "full", null).Entries.Single().Config.Id);
    }

    [Fact]
    public void Every_default_is_the_same_everywhere()
    {
        // The command line with nothing given builds each section's declared defaults.
        var prune = new PruneCommand();
        var o = prune.Read(prune.Command.Parse(["--method", "wlth"]));
        Assert.Equal(new ModelSettings().ToSpec(), o.Model);
        Assert.Equal(new InitSettings().ToSpec(new ModelSettings().Activation), o.Init);
        Assert.Equal(new DataSettings().Name, o.Dataset);
        Assert.Equal(new PruneSettings().ScoreBatchSize, o.ScoreBatchSize);
        Assert.Equal(new PruneSettings().ScopeKind, o.Prune.Scope);
        Assert.Equal(new PruneSettings().IncludeBiases, o.Prune.IncludeBiases);

        // The library's records have the declared defaults.
        var train = new TrainSettings();
        var config = new TrainConfig();
        Assert.Equal(
            (train.Epochs, train.BatchSize, train.Lr, train.Momentum, train.Nesterov, train.WeightDecay, train.Schedule, train.Gamma, train.MaxSteps, new DataSettings().Augment),
            (config.Epochs, config.BatchSize, config.LearningRate, config.Momentum, config.Nesterov, config.WeightDecay, config.Schedule, config.Gamma, config.MaxSteps, config.Augment));
        Assert.Equal(
            (train.Optimizer, train.Beta1, train.Beta2, train.Eps, train.RmspropAlpha, train.LabelSmoothing, train.WarmupSteps),
            (config.Optimizer, config.Beta1, config.Beta2, config.Eps, config.RmspropAlpha, config.LabelSmoothing, config.WarmupSteps));
        // The optimizers' defaults are torch.optim's (Adam betas (0.9, 0.999), eps 1e-8; RMSprop alpha 0.99).
        Assert.Equal((0.9, 0.999, 1e-8, 0.99), (config.Beta1, config.Beta2, config.Eps, config.RmspropAlpha));
        // A bare TrainSettings converts to the bare TrainConfig.
        Assert.Equal(config with { Milestones = null }, train.ToConfig() with { Milestones = null });
        Assert.Equal(new ModelSettings().ToSpec(), new ModelSpec());
        var init = new InitSpec();
        Assert.Equal(new InitSettings().ToSpec("relu") with { Activation = null }, init);
        // σ_w's default is ReLU's Edge of Chaos at σ_b = 0 (seed 001 §2): √2.
        Assert.Equal(EdgeOfChaos.SigmaW("relu", 0), init.SigmaW, 12);
        Assert.Equal(Math.Sqrt(2), new InitSettings().SigmaW);
        var spec = new PruneSpec("snip", 0.5);
        Assert.Equal((new PruneSettings().ScopeKind, new PruneSettings().IncludeBiases), (spec.Scope, spec.IncludeBiases));

        // A spec's omitted fields take the same declared defaults.
        foreach (var field in SpecSchema.Fields.Where(f => f.Key != SpecSchema.Fallback))
        {
            var declared = field.Section == "prune" && PrunerRegistry.AllOptions.FirstOrDefault(p => p.Key == field.Key) is { } option ? option
                : Param.Of(Section(field.Section)).Single(p => p.Key == field.Key);
            // An option whose default depends on the method is left unset (null) in a spec, so each method takes its own.
            Assert.Equal(PrunerRegistry.DefaultsByMethod(field.Key) is null ? declared.Default : null, field.Default);
        }
    }

    static Type Section(string name) => name switch
    {
        "data" => typeof(DataSettings),
        "model" => typeof(ModelSettings),
        "init" => typeof(InitSettings),
        "prune" => typeof(PruneSettings),
        _ => typeof(TrainSettings),
    };

    [Fact]
    public void Train_on_the_command_line_reads_the_declared_recipe()
    {
        var parsed = InitPrune.Cli.Commands.TrainCommand.Create().Parse(["--lr", "0.02", "--schedule", "step", "--milestones", "0.5,0.75", "--epochs", "8"]);
        Assert.Empty(parsed.Errors);
        var config = FromSpec("{method: none}", "{epochs: 8, lr: 0.02, schedule: step, milestones: [0.5, 0.75]}").ToTrainConfig();
        Assert.Equal([4, 6], config.Milestones!);
        Assert.Equal(0.02, config.LearningRate);
    }

    [Fact]
    public void Method_options_have_one_declaration_per_key()
    {
        var keys = PrunerRegistry.AllOptions.Select(p => p.Key).ToList();
        Assert.Equal(keys.Distinct().Count(), keys.Count);
        // Methods that declare the same key (iterations: synflow 100, snip/grasp 1) differ at most in default and help.
        foreach (var group in PrunerRegistry.Methods.SelectMany(m => m.Options).GroupBy(p => p.Key))
            Assert.Single(group.Select(p => (p.Kind, p.Min, p.Max, p.Flag, p.Nullable)).Distinct());
        var sectionKeys = Param.Of(typeof(PruneSettings)).Select(p => p.Key);
        Assert.Empty(keys.Intersect(sectionKeys));
    }

    [Fact]
    public void Ids_of_runs_stored_by_the_previous_version_are_unchanged()
    {
        // Ids printed by `initprune sweep SPEC --dry-run` of the version before method options were declared (4506c1f).
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "pin.yaml");
        File.WriteAllText(path, """
            name: pin-ids
            data: {name: ellipse}
            model: {name: mlp, depth: 2, width: 16}
            train: {epochs: 1}
            variants:
              - {label: dense, prune: {method: none}}
              - {label: grasp, prune: {method: grasp, sparsity: 0.5, temperature: 50}}
              - {label: synflow, prune: {method: synflow, sparsity: 0.9, iterations: 7, scope: layer_wise}}
              - {label: seed003, prune: {method: seed003-magnitude, sparsity: 0.5, alpha: 0.3}}
              - {label: imp, prune: {method: imp, sparsity: 0.8, rounds: 2, round_epochs: 2}}
              - {label: wlth, init: {sigma_w: 2}, prune: {method: wlth, sparsity: 0.5}}
            """);
        var entries = SpecLoader.Load(path, "full", null).Entries;
        Assert.Equal(["24adfb610713e26d", "39c86642e46c407c", "55566a3d57b292ca", "05a9907864ae30a1", "c7e87ec04a5089f3", "a4bdab628ee9425e"],
            entries.Select(e => e.Config.Id));
        foreach (var e in entries) Assert.Equal(e.Config.Id, RunConfig.FromJson(e.Config.ToJson()).Id);
        Assert.Equal(entries.Select(e => e.Config), entries.Select(e => RunConfig.FromJson(e.Config.ToJson())));
    }

    [Fact]
    public void A_new_option_enters_the_id_only_when_it_differs_from_its_default()
    {
        var run = FromSpec("{method: snip, sparsity: 0.5}");
        var biases = run with { Prune = run.Prune with { IncludeBiases = true } };
        Assert.DoesNotContain("include_biases", run.ToJson());
        Assert.Contains("\"include_biases\":true", biases.ToJson());
        Assert.NotEqual(run.Id, biases.Id);
        Assert.True(RunConfig.FromJson(biases.ToJson()).Prune.IncludeBiases);
    }

    [Fact]
    public void Options_added_after_the_first_store_schema_stay_out_of_ids_at_their_default()
    {
        var run = FromSpec("{method: snip, sparsity: 0.5}", "{epochs: 1}");
        var json = System.Text.Json.JsonDocument.Parse(run.ToJson()).RootElement;
        var sections = new[] { "data", "model", "init", "prune", "train" };
        var added = sections.SelectMany(s => Param.Of(Section(s)).Where(p => p.Since > 1).Select(p => (s, p))).ToList();
        Assert.Contains(added, a => a.p.Key == "include_biases");
        foreach (var (section, p) in added)
            Assert.False(json.GetProperty(section).TryGetProperty(p.Key, out _), $"{section}.{p.Key} at its default changes the ids of stored runs");
        foreach (var (section, p) in sections.SelectMany(s => Param.Of(Section(s)).Where(p => p.Since <= 1).Select(p => (s, p))))
            Assert.True(json.GetProperty(section).TryGetProperty(p.Key, out _), $"{section}.{p.Key} is missing from the canonical JSON");
    }

    [Theory]
    [InlineData("layer", "layer-wise")]
    [InlineData("layer_wise", "layer-wise")]
    [InlineData("LayerWise", "layer-wise")]
    [InlineData("Global", "global")]
    public void Aliases_are_the_same_on_the_command_line_and_in_specs(string typed, string canonical)
    {
        var scope = Param.Of(typeof(PruneSettings)).Single(p => p.Key == "scope");
        Assert.Equal(canonical, scope.Canonical(typed));
        Assert.Equal(canonical == "global" ? PruneScope.Global : PruneScope.LayerWise, FromCli($"{Base} --method snip --sparsity 0.5 --scope {typed}").Spec.Scope);
        Assert.Equal(canonical, FromSpec($"{{method: snip, sparsity: 0.5, scope: {typed}}}").Prune.Scope);
    }

    [Theory]
    [InlineData("vgg16", "vgg16")]
    [InlineData("VGG19-bn", "vgg19-bn")]
    [InlineData("3xvgg11", "3xvgg11")]
    [InlineData("vgg12", null)]
    [InlineData("resnet26", "resnet26")]
    [InlineData("resnet27", null)]
    [InlineData("LeNet-300-100", "lenet300")]
    public void Model_names_are_resolved_in_one_place(string typed, string? canonical)
    {
        Assert.Equal(canonical, ModelRegistry.Resolve(typed));
        var model = Param.Of(typeof(ModelSettings)).Single(p => p.Key == "name");
        Assert.Equal(canonical is null, model.Problem(model.Canonical(typed)) is not null);
    }

    [Fact]
    public void Declared_ranges_give_the_advice_of_errors()
    {
        Assert.Equal("(0, 1]", Seed003Method.Alpha.Range);
        Assert.Equal("use a value in (0, 1]", Seed003Method.Alpha.Problem(0.0));
        Assert.Null(Seed003Method.Alpha.Problem(1.0));
        Assert.Equal("use at least 1", SynFlowScorer.Iterations.Problem(0));
        Assert.Equal("use a finite value > 0", GraspScorer.Temperature.Problem(double.PositiveInfinity));
        var sparsity = Param.Of(typeof(PruneSettings)).Single(p => p.Key == "sparsity");
        Assert.Equal("use a value in [0, 1)", sparsity.Problem(1.0));
    }

    [Fact]
    public void The_generated_option_tables_in_the_docs_are_current()
    {
        foreach (var (file, name, table) in new[]
        {
            ("docs/specs.md", "SpecFields", OptionDocs.SpecFields()),
            ("docs/methods.md", "MethodOptions", OptionDocs.MethodOptions()),
        })
        {
            var path = Path.Combine(Repo.Root, file);
            var text = File.ReadAllText(path);
            var begin = $"<!-- generated: OptionDocs.{name} -->\n";
            const string End = "<!-- end generated -->";
            int a = text.IndexOf(begin, StringComparison.Ordinal), b = text.IndexOf(End, a + 1, StringComparison.Ordinal);
            Assert.True(a >= 0 && b > a, $"{file} lacks the markers of OptionDocs.{name}");
            var current = text[(a + begin.Length)..b];
            if (current != table && Environment.GetEnvironmentVariable("INITPRUNE_UPDATE_DOCS") == "1")
                File.WriteAllText(path, text[..(a + begin.Length)] + table + text[b..]);
            else
                Assert.True(current == table, $"{file} is out of date with the declarations: run INITPRUNE_UPDATE_DOCS=1 dotnet test --filter The_generated_option_tables");
        }
        Assert.Contains("`--temperature` / `prune.temperature`", OptionDocs.MethodOptions());
        Assert.Contains("| `train.lr` | 0.1 |", OptionDocs.SpecFields());
    }

    sealed class TrainConfigComparer : IEqualityComparer<TrainConfig>
    {
        public static readonly TrainConfigComparer Instance = new();

        public bool Equals(TrainConfig? a, TrainConfig? b) =>
            a is not null && b is not null && a with { Milestones = null } == b with { Milestones = null }
            && (a.Milestones ?? []).SequenceEqual(b.Milestones ?? []);

        public int GetHashCode(TrainConfig c) => c.Epochs;
    }

    static RunConfig Eoc(string prune)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.yaml");
        File.WriteAllText(path, $"name: s\ndata: {{name: ellipse}}\nmodel: {{name: mlp, depth: 2, width: 16, activation: tanh}}\ninit: {{name: eoc, sigma_b: 0.05}}\nprune: {prune}\ntrain: {{epochs: 0}}\n");
        return SpecLoader.Load(path, "full", null).Entries.Single().Config;
    }

    [Fact]
    public void Eoc_sigma_w_restores_the_sigma_w_the_initialization_draws_with_or_the_one_given()
    {
        var drawn = Eoc("{method: random, sparsity: 0.5, rescale: eoc-sigma-w}").ToPruneSpec().Rescale!;
        Assert.Equal(InitPrune.Theory.EdgeOfChaos.SigmaW("tanh", 0.05), drawn.SigmaW!.Value, 12);
        var given = Eoc("{method: random, sparsity: 0.5, rescale: eoc-sigma-w, rescale_sigma_w: 1.4142135623730951}");
        Assert.Equal(Math.Sqrt(2), given.ToPruneSpec().Rescale!.SigmaW!.Value, 12);
        Assert.NotEqual(Eoc("{method: random, sparsity: 0.5, rescale: eoc-sigma-w}").Id, given.Id);
        var e = Assert.Throws<InitPruneException>(() => Eoc("{method: random, sparsity: 0.5, rescale: eoc, rescale_sigma_w: 1.5}").ToPruneSpec());
        Assert.Contains("rescale_sigma_w sets the target of rescale eoc-sigma-w", e.Message);
        Assert.Null(new InitPrune.Init.InitSpec("xavier-normal").DrawnSigmaW);
    }
}
