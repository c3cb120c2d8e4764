using System.Diagnostics;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Cli;

/// <summary>`dotnet pack` + `dotnet tool install` give a working `initprune` command, as the README says.</summary>
public sealed class ToolPackageTests : IDisposable
{
    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    /// <summary>
    /// Packs the CLI (from the build these tests run on), installs it with --tool-path from that package alone (its own
    /// NuGet cache, so no earlier install is reused) and runs it from another folder: the help names `initprune`, and a
    /// prune runs libtorch, which on Debian 12 / Ubuntu 22.04 needs the packed libLibTorchSharp.so to be the patched copy.
    /// </summary>
    [Fact]
    public void The_packed_tool_installs_as_initprune_and_runs_from_any_folder()
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = bin.Parent!.Name; // tests/InitPrune.Tests/bin/<Configuration>/net10.0
        var repo = bin;
        while (!File.Exists(Path.Combine(repo.FullName, "InitPrune.slnx"))) repo = repo.Parent ?? throw new InvalidOperationException("no InitPrune.slnx above the tests");
        var (nupkg, tools, elsewhere) = (root.Sub("nupkg"), root.Sub("tools"), root.Sub("elsewhere"));
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = root.Sub("nuget-cache"), ["DOTNET_CLI_HOME"] = root.Sub("home") };
        File.WriteAllText(root.File("nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="local" value="{nupkg}" /></packageSources></configuration>
            """);

        Run(repo.FullName, env, "dotnet", "pack", Path.Combine(repo.FullName, "src", "InitPrune.Cli"), "-c", configuration, "--no-build",
            "-o", nupkg, $"-p:PublishDir={root.Sub("publish")}/");
        Assert.Single(Directory.GetFiles(nupkg, "InitPrune.Cli.*.nupkg"));
        Run(elsewhere, env, "dotnet", "tool", "install", "--tool-path", tools, "--configfile", root.File("nuget.config"), "InitPrune.Cli");

        var initprune = Path.Combine(tools, "initprune");
        var help = Run(elsewhere, env, initprune, "--help");
        Assert.Contains("initprune [command] [options]", help);
        var pruned = Run(elsewhere, env, initprune, "prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "1", "--width", "8",
            "--method", "random", "--sparsity", "0.5", "--out", "run", "--json");
        Assert.Contains("\"method\": \"random\"", pruned);
        Assert.True(File.Exists(Path.Combine(elsewhere, "run", "mask.safetensors")));
    }

    static string Run(string workingDirectory, IDictionary<string, string> env, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 5 minutes");
        }
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {p.ExitCode}: {stdout.Result}{stderr.Result}");
        return stdout.Result;
    }
}
