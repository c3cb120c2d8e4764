using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Tests.Cli;

namespace InitPrune.Tests.Engine;

[CollectionDefinition("oneDNN switch", DisableParallelization = true)]
public sealed class OneDnnSwitchCollection;

/// <summary>Issue 9 §1: the AVX2 cap reaches oneDNN, can be turned off, and a failing self-check switches oneDNN off.</summary>
[Collection("oneDNN switch")]
public class CpuGuardTests
{
    /// <summary>oneDNN prints the instruction set it dispatches to when ONEDNN_VERBOSE=1; a conv prune makes it.</summary>
    static string OneDnnIsaOfAChildProcess(string? guard)
    {
        using var data = new RandomCifar10();
        using var dir = new Data.TempDir();
        var r = CliRunner.RunIn(new Dictionary<string, string?> { ["ONEDNN_VERBOSE"] = "1", ["INITPRUNE_CPU_GUARD"] = guard, ["DNNL_MAX_CPU_ISA"] = null, ["ONEDNN_MAX_CPU_ISA"] = null },
            "prune", "--dataset", "cifar10", "--data-dir", data.Path, "--model", "vcnn", "--depth", "2", "--width", "8", "--method", "snip", "--sparsity", "0.5",
            "--score-batch-size", "8", "--out", dir.Path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var line = r.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("onednn_verbose", StringComparison.Ordinal) && l.Contains(",isa:", StringComparison.Ordinal));
        Assert.NotNull(line);
        return line[(line.IndexOf(",isa:", StringComparison.Ordinal) + 5)..].Trim();
    }

    [Fact]
    public void On_an_AVX512_CPU_oneDNN_runs_AVX2_unless_the_guard_is_off()
    {
        var capped = OneDnnIsaOfAChildProcess(guard: null);
        var uncapped = OneDnnIsaOfAChildProcess(guard: "off");
        if (CpuGuard.HasAvx512())
        {
            Assert.Equal("Intel AVX2", capped);
            Assert.Contains("AVX-512", uncapped);
        }
        else
        {
            Assert.Equal(uncapped, capped);
        }
    }

    [Fact]
    public void The_guard_reports_what_it_did_to_this_process()
    {
        var user = Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") ?? Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA");
        if (user is not null) Assert.Contains("set by the user", CpuGuard.OneDnnIsa);
        else if (CpuGuard.HasAvx512() && Environment.GetEnvironmentVariable(CpuGuard.Variable) is null) Assert.Equal("AVX2 (capped on an AVX-512 CPU)", CpuGuard.OneDnnIsa);
        Assert.Null(CpuGuard.RunConvolutionCheck());
    }

    [Fact]
    public void A_failing_self_check_switches_oneDNN_off_with_one_warning_and_convolutions_still_match()
    {
        CpuGuard.Reset();
        int calls = 0;
        var stderr = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            CpuGuard.CheckConvolutions(() => ++calls == 1 ? "two identical convolutions differ in check 1" : CpuGuard.RunConvolutionCheck());
            Assert.Equal(2, calls);
            Assert.True(CpuGuard.OneDnnDisabled);
            var line = Assert.Single(captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("warning: convolutions with oneDNN", line);
            Assert.Contains("DNNL_MAX_CPU_ISA=AVX2", line);
            // Once checked, building a conv net does not check again.
            using var net = ModelRegistry.Create(new ModelSpec("vcnn", Depth: 1, Width: 4), [3L, 8, 8], 2);
            Assert.Equal(2, calls);
        }
        finally
        {
            Console.SetError(stderr);
            CpuGuard.Reset();
        }
    }

    [Fact]
    public void A_self_check_that_fails_without_oneDNN_too_is_a_one_line_error()
    {
        CpuGuard.Reset();
        var stderr = Console.Error;
        Console.SetError(new StringWriter());
        try
        {
            var e = Assert.Throws<InitPruneException>(() => CpuGuard.CheckConvolutions(() => "non-finite result in check 2"));
            Assert.Contains("even without oneDNN (non-finite result in check 2)", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally
        {
            Console.SetError(stderr);
            CpuGuard.Reset();
        }
    }
}
