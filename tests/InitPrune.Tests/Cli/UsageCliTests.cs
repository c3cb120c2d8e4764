using InitPrune.Tests.Data;

namespace InitPrune.Tests.Cli;

/// <summary>The command line as typed: `initprune` in every help page, one line (never the help page) for a typo.</summary>
public sealed class UsageCliTests
{
    [Theory]
    [InlineData("")]
    [InlineData("prune")]
    [InlineData("train")]
    [InlineData("quickstart")]
    [InlineData("bench")]
    [InlineData("sweep")]
    [InlineData("report")]
    [InlineData("export")]
    [InlineData("ticket")]
    [InlineData("jacobian")]
    [InlineData("theory")]
    [InlineData("theory tn")]
    [InlineData("theory eoc")]
    public void Help_names_the_program_initprune(string command)
    {
        var path = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var r = CliRunner.Run([.. path, "--help"]);
        Assert.Equal(0, r.ExitCode);
        var usage = r.Stdout.Split('\n').SkipWhile(l => l.Trim() != "Usage:").Skip(1).First().Trim();
        Assert.StartsWith(string.Join(' ', ["initprune", .. path]) + " ", usage);
        Assert.DoesNotContain("InitPrune.Cli", r.Stdout);
    }

    [Theory]
    [InlineData("error: unknown option '--sparsty' for 'prune'; did you mean '--sparsity'? (initprune prune --help lists the options)", "prune", "--sparsty", "0.5")]
    [InlineData("error: unknown option '--epoch' for 'train'; did you mean '--epochs'? (initprune train --help lists the options)", "train", "--epoch", "3")]
    [InlineData("error: unknown option '--sed' for 'subset-sum'; did you mean '--seed'? (initprune theory subset-sum --help lists the options)", "theory", "subset-sum", "--sed", "1")]
    [InlineData("error: unknown option '--frobnicate' for 'prune' (initprune prune --help lists the options)", "prune", "--frobnicate")]
    [InlineData("error: unknown command 'prun' for 'initprune'; did you mean 'prune'? (initprune --help lists the commands)", "prun", "--model", "mlp")]
    [InlineData("error: unknown command 'eco' for 'theory'; did you mean 'eoc'? (initprune theory --help lists the commands)", "theory", "eco")]
    [InlineData("error: unknown command 'frobnicate' for 'initprune' (initprune --help lists the commands)", "frobnicate")]
    [InlineData("error: unexpected argument 'extra' for 'prune' (initprune prune --help lists the options)", "prune", "extra")]
    public void A_typo_is_one_line_naming_it_and_the_closest_valid_name(string expected, params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(expected, CliRunner.AssertOneLineError(r).TrimEnd('\r'));
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_one_line_naming_the_option()
    {
        var r = CliRunner.Run("prune", "--method", "snip", "--sparsity", "abc");
        var line = CliRunner.AssertOneLineError(r);
        Assert.Contains("'abc'", line);
        Assert.Contains("'--sparsity'", line);
        Assert.Contains("initprune prune --help", line);
        Assert.Equal("", r.Stdout);
    }

    /// <summary>--seed only where a command draws random numbers, --device only where it computes with tensors.</summary>
    [Theory]
    [InlineData("theory eoc", false, false)]
    [InlineData("theory phase", false, false)]
    [InlineData("theory phase-diagram", false, false)]
    [InlineData("theory propagate", false, false)]
    [InlineData("theory tn", false, false)]
    [InlineData("theory keep-prob", false, false)]
    [InlineData("theory qk-bounds", false, false)]
    [InlineData("theory subset-sum", true, false)]
    [InlineData("theory s-cr", true, true)]
    [InlineData("theory conv-norm", true, true)]
    [InlineData("prune", true, true)]
    [InlineData("train", true, true)]
    public void Seed_and_device_are_offered_only_where_they_do_something(string command, bool seed, bool device)
    {
        var path = command.Split(' ');
        var help = CliRunner.Run([.. path, "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Equal(seed, help.Stdout.Contains("--seed"));
        Assert.Equal(device, help.Stdout.Contains("--device"));
        if (!seed)
            Assert.Contains($"unknown option '--seed' for '{path[^1]}'", CliRunner.AssertOneLineError(CliRunner.Run([.. path, "--seed", "1"])));
    }

    /// <summary>Redirected progress is one line per epoch that fits an 80-column terminal.</summary>
    [Fact]
    public void Epoch_lines_fit_80_columns()
    {
        using var root = new TempDir();
        var r = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--epochs", "2", "--out", root.File("t"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var epochs = r.Stdout.Split('\n').Where(l => l.StartsWith("epoch ")).ToList();
        Assert.Equal(2, epochs.Count);
        foreach (var line in epochs)
        {
            Assert.True(line.TrimEnd('\r').Length <= 80, $"{line.Length} columns: {line}");
            Assert.Matches(@"^epoch \d+/2 lr \S+ loss \d+\.\d{4} test \d+\.\d{4} \d+\.\d% [\d,]+/s \d+\.\ds$", line.TrimEnd('\r'));
        }
    }
}
