using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace InitPrune.Tests.Packaging;

/// <summary>
/// The README's C# example is <c>samples/QuickPrune/Program.cs</c>, and it builds and runs as a user's project would:
/// outside this repository (none of its Directory.Build.* files apply), referencing the freshly packed InitPrune
/// package from a local folder plus TorchSharp-cpu. On a host whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12,
/// Ubuntu 22.04) the program only loads libtorch when the package's buildTransitive targets ran.
/// </summary>
public sealed class SampleProjectTests : IDisposable
{
    readonly string temp = Path.Combine(Path.GetTempPath(), "initprune-sample-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
    }

    static string RepoRoot() => Repo.Root;

    static string SampleProgram => Path.Combine(RepoRoot(), "samples", "QuickPrune", "Program.cs");

    [Fact]
    public void ReadmeShowsTheSampleProgram()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md")).ReplaceLineEndings("\n");
        var blocks = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        var block = Assert.Single(blocks);
        Assert.Equal(File.ReadAllText(SampleProgram).ReplaceLineEndings("\n"), block.Groups[1].Value);
    }

    [Fact]
    public void SampleBuildsAndRunsAgainstThePackedLibrary()
    {
        var root = RepoRoot();
        Assert.False(temp.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"{temp} must lie outside {root}");
        string feed = Path.Combine(temp, "feed"), app = Path.Combine(temp, "app"), output = Path.Combine(temp, "out");
        // A version of its own, so no copy of InitPrune restored earlier can stand in for this one.
        var version = "0.0.0-sample." + Guid.NewGuid().ToString("N")[..12];

        Dotnet(root, "pack", "src/InitPrune", "-o", feed, "-p:PackageVersion=" + version, "--artifacts-path", Path.Combine(temp, "artifacts"));
        Assert.True(File.Exists(Path.Combine(feed, $"InitPrune.{version}.nupkg")));

        Directory.CreateDirectory(app);
        foreach (var file in new[] { "Program.cs", "QuickPrune.csproj" })
            File.Copy(Path.Combine(root, "samples", "QuickPrune", file), Path.Combine(app, file));
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="initprune-under-test" value="{SecurityElement.Escape(feed)}" />
              </packageSources>
            </configuration>
            """);

        // None of this repository's MSBuild files reach the copy.
        var properties = JsonDocument.Parse(Dotnet(app, "msbuild", "QuickPrune.csproj", "-getProperty:DirectoryBuildPropsPath",
            "-getProperty:DirectoryBuildTargetsPath", "-getProperty:DirectoryPackagesPropsPath")).RootElement.GetProperty("Properties");
        foreach (var p in properties.EnumerateObject()) Assert.True(p.Value.GetString() == "", $"{p.Name} = {p.Value}");

        // InitPrune restores into a folder of the test's own; everything else comes from the packages already restored here.
        var globalPackages = Dotnet(app, "nuget", "locals", "global-packages", "--list").Split(':', 2)[1].Trim();
        Dotnet(app, "build", "QuickPrune.csproj", "-c", "Release", "-o", output, "-p:InitPruneVersion=" + version,
            "-p:RestorePackagesPath=" + Path.Combine(temp, "packages"), "-p:RestoreFallbackFolders=" + globalPackages, "-p:NuGetAudit=false");
        Assert.False(Directory.Exists(Path.Combine(output, "runtimes")), "the output holds other platforms' natives: the sample lost its RuntimeIdentifier");

        var lines = Dotnet(app, Path.Combine(output, "QuickPrune.dll")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // LeNet-300-100 on the 2-D, 4-class ellipse task: 2·300 + 300·100 + 100·4 = 31,000 weights; SNIP at 0.9 keeps 10%.
        Assert.Equal("snip kept 3100 of 31000 weights", lines[0]);
        var accuracy = Regex.Match(lines[1], @"^test accuracy after 1 epoch: (\d\.\d{4})$");
        Assert.True(accuracy.Success, lines[1]);
        // Chance on 4 classes is 0.25; one epoch of SGD on the sparse network learns the task well past it.
        Assert.InRange(double.Parse(accuracy.Groups[1].Value, CultureInfo.InvariantCulture), 0.5, 1.0);
    }

    /// <summary>Runs <c>dotnet args</c> in <paramref name="dir"/> without build servers; returns stdout, fails with both streams on a non-zero exit.</summary>
    static string Dotnet(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (args[0] is "pack" or "build") psi.ArgumentList.Add("--disable-build-servers");
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in 10 minutes");
        }
        Assert.True(p.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }
}
