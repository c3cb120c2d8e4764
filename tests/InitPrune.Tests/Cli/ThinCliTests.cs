using System.Text.RegularExpressions;

namespace InitPrune.Tests.Cli;

/// <summary>The command line parses, calls one library function and prints: it computes nothing itself (issue 10 §5).</summary>
public class ThinCliTests
{
    [Fact]
    public void The_command_line_uses_no_tensors_and_opens_no_store_itself()
    {
        var cli = Path.Combine(Repo.Root, "src", "InitPrune.Cli");
        var files = Directory.GetFiles(cli, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")).ToList();
        Assert.NotEmpty(files);
        var offending = files.SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => Regex.IsMatch(Regex.Replace(x.line, @"""(?:[^""\\]|\\.)*""", "\"\""), @"\b(torch|Tensor|TorchSharp|SqliteResultsStore)\b"))
            .Select(x => $"{Path.GetRelativePath(cli, x.f)}:{x.i + 1}: {x.line.Trim()}").ToList();
        Assert.True(offending.Count == 0, string.Join("\n", offending));
    }
}
