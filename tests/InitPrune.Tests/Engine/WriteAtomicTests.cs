using System.Text;
using InitPrune.Engine;

namespace InitPrune.Tests.Engine;

/// <summary>Atomic writes: the old file or the whole new one, and no temporary file left behind when writing fails.</summary>
public sealed class WriteAtomicTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("initprune-atomic-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string[] Entries() => [.. Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order()!];

    [Fact]
    public void A_writer_that_fails_midway_leaves_the_old_file_and_no_temporary()
    {
        var path = Path.Combine(dir, "plot.png");
        File.WriteAllText(path, "old");

        var e = Assert.Throws<InitPruneException>(() => Artifacts.WriteAtomic(path, s =>
        {
            s.Write("half a pic"u8);
            throw new IOException("No space left on device");
        }));

        Assert.Equal("No space left on device", Assert.IsType<IOException>(e.InnerException).Message);
        Assert.Contains("No space left on device", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["plot.png"], Entries());
    }

    [Fact]
    public void Text_whose_rename_fails_removes_its_temporary()
    {
        // The target is a folder: the temporary file is written, the rename over the folder fails.
        var path = Path.Combine(dir, "report.md");
        Directory.CreateDirectory(path);

        var e = Assert.Throws<InitPruneException>(() => Artifacts.WriteAllTextAtomic(path, "# report\n"));
        Assert.IsAssignableFrom<IOException>(e.InnerException);

        Assert.Equal(["report.md"], Entries());
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public void Bytes_and_text_are_written_whole_without_a_byte_order_mark()
    {
        Artifacts.WriteAllBytesAtomic(Path.Combine(dir, "a.bin"), [1, 2, 3]);
        Artifacts.WriteAllTextAtomic(Path.Combine(dir, "b.md"), "± —");

        Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(dir, "a.bin")));
        Assert.Equal(Encoding.UTF8.GetBytes("± —"), File.ReadAllBytes(Path.Combine(dir, "b.md")));
        Assert.Equal(["a.bin", "b.md"], Entries());
    }
}
