using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.IO;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using TorchSharp;

namespace InitPrune.Tests.Engine;

/// <summary>Artefacts are written whole or not at all, and the temporaries of dead writers do not pile up.</summary>
public class ArtifactsTests
{
    sealed class Torn : Exception;

    /// <summary>A process id no process can have (above Linux's largest pid_max), so its writer is certainly dead.</summary>
    const int DeadPid = 2_147_483_646;

    static string[] Temporaries(string folder) => Directory.GetFiles(folder, ".*.tmp", SearchOption.AllDirectories);

    [Fact]
    public void A_writer_that_throws_midway_leaves_the_previous_file_and_no_temporary()
    {
        using var dir = new TempDir();
        var path = dir.File("summary.json");
        Artifacts.WriteAllTextAtomic(path, "old");
        Assert.Throws<Torn>(() => Artifacts.WriteAtomic(path, s =>
        {
            s.Write(new byte[100_000]);
            throw new Torn();
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Empty(Temporaries(dir.Path));
    }

    [Fact]
    public void A_safetensors_save_whose_rename_fails_is_one_line_and_leaves_no_temporary()
    {
        using var dir = new TempDir();
        var target = dir.Sub("final.safetensors"); // a folder where the file should go: the rename fails after the data is written
        using var t = torch.ones(1000);
        var e = Assert.Throws<InitPruneException>(() => Safetensors.Save(target, new Dictionary<string, torch.Tensor> { ["w"] = t }));
        Assert.Contains("cannot write", e.Message);
        Assert.Empty(Temporaries(dir.Path));
        Assert.True(Directory.Exists(target));
    }

    [Fact]
    public void Writing_where_a_file_blocks_the_folder_is_a_one_line_error_and_leaves_nothing()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("blocker"), "x");
        var e = Assert.Throws<InitPruneException>(() => Artifacts.WriteAllTextAtomic(Path.Combine(dir.File("blocker"), "out.json"), "{}"));
        Assert.Contains("cannot write", e.Message);
        Assert.Contains("writable", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(["blocker"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(".final.safetensors.1234.0123456789abcdef0123456789abcdef.tmp", 1234)]
    [InlineData(".propagate.json.77.tmp", 77)]
    [InlineData(".final.safetensors.0123456789abcdef0123456789abcdef.tmp", null)]
    [InlineData(".x.tmp", null)]
    public void The_writer_pid_is_read_from_the_temporary_name(string name, int? pid) => Assert.Equal(pid, Artifacts.WriterPid(name));

    [Fact]
    public void A_temporary_name_carries_this_process_id()
    {
        using var dir = new TempDir();
        string? seen = null;
        Artifacts.WriteAtomic(dir.File("a.json"), _ => seen = Temporaries(dir.Path).Single());
        Assert.Equal(Environment.ProcessId, Artifacts.WriterPid(Path.GetFileName(seen!)));
    }

    [Fact]
    public void A_sweep_removes_the_stale_temporaries_of_its_store_and_keeps_those_of_live_writers()
    {
        using var dir = new TempDir();
        var results = dir.Sub("results");
        var checkpoints = Directory.CreateDirectory(Path.Combine(results, "checkpoints")).FullName;
        var run = Directory.CreateDirectory(Path.Combine(results, "runs", "0123456789abcdef")).FullName;
        var old = DateTime.UtcNow.AddHours(-1);
        string Seed(string folder, string name, DateTime written)
        {
            var path = Path.Combine(folder, name);
            File.WriteAllBytes(path, []);
            File.SetLastWriteTimeUtc(path, written);
            return path;
        }
        string[] stale =
        [
            Seed(checkpoints, $".0123456789abcdef.safetensors.{DeadPid}.00112233445566778899aabbccddeeff.tmp", old),
            Seed(run, $".final.safetensors.{DeadPid}.00112233445566778899aabbccddeeff.tmp", old),
            Seed(run, ".mask.safetensors.00112233445566778899aabbccddeeff.tmp", old), // an older release's name, without a pid
            Seed(results, $".sweep-x@full.json.{DeadPid}.tmp", old),
        ];
        string[] kept =
        [
            Seed(checkpoints, $".fedcba9876543210.safetensors.{Environment.ProcessId}.00112233445566778899aabbccddeeff.tmp", old), // a live writer
            Seed(run, ".mask.safetensors.ffeeddccbbaa99887766554433221100.tmp", DateTime.UtcNow), // just written: maybe by a live writer elsewhere
            Seed(checkpoints, "notes.tmp", old), // not a temporary of ours
        ];

        var spec = Path.Combine(dir.Path, "spec.yaml");
        File.WriteAllText(spec, """
            name: tmp
            data: {name: ellipse, train_subset: 100, test_subset: 50}
            model: {name: mlp, depth: 1, width: 4}
            train: {epochs: 1, batch_size: 50}
            """);
        var r = CliRunner.Run("sweep", spec, "--out", results);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.All(stale, p => Assert.False(File.Exists(p), p));
        Assert.All(kept, p => Assert.True(File.Exists(p), p));
    }

    [Fact]
    public void RemoveStaleTemporaries_of_a_missing_folder_removes_nothing() =>
        Assert.Empty(SweepRunner.RemoveStaleTemporaries(new SweepFolders(Path.Combine(Path.GetTempPath(), "initprune-missing-" + Guid.NewGuid().ToString("N")))));
}
