using InitPrune.Data;
using InitPrune.Engine;

namespace InitPrune.Tests.Data;

[Collection(DataEnvironmentCollection.Name)]
public class DataRootTests
{
    [Fact]
    public void A_chosen_folder_is_the_only_candidate_else_the_user_and_system_folders()
    {
        using var dir = new TempDir();
        using (new DataEnvironment(dir.Sub("env"), dir.Sub("home"), dir.Sub("system")))
        {
            Assert.Equal([dir.File("arg")], DataRoot.Candidates(dir.File("arg")));
            Assert.Equal(new DataRoot.Choice(dir.File("arg"), "--data-dir"), DataRoot.Chosen(dir.File("arg")));
            Assert.Equal([dir.File("env")], DataRoot.Candidates());
            Assert.Equal(new DataRoot.Choice(dir.File("env"), "$INITPRUNE_DATA"), DataRoot.Chosen());
            Assert.Equal([dir.File("env"), Path.Combine(dir.File("env"), "mnist")], DataRoot.SearchFolders("mnist"));
        }
        using (new DataEnvironment(null, dir.File("home"), dir.File("system")))
        {
            Assert.Null(DataRoot.Chosen());
            Assert.Equal([Path.Combine(dir.File("home"), ".initprune", "data"), dir.File("system")], DataRoot.Candidates());
        }
    }

    [Fact]
    public void DefaultsAreTheDocumentedFolders()
    {
        Assert.Equal("/usr/share/datasets", DataRoot.DefaultSystemFolder);
        Assert.Equal("INITPRUNE_DATA", DataRoot.EnvVar);
    }

    [Fact]
    public void EarlierCandidatesWinAndSubfoldersAreSearched()
    {
        using var dir = new TempDir();
        var arg = dir.Sub("arg");
        var env = dir.Sub("env/mnist");
        var user = dir.Sub("home/.initprune/data/mnist");
        var system = dir.Sub("system");
        DataFiles.WriteMnistLike(arg, [1], [1]);
        DataFiles.WriteMnistLike(env, [2], [2]);
        DataFiles.WriteMnistLike(user, [3], [3]);
        DataFiles.WriteMnistLike(system, [4], [4]);

        using (new DataEnvironment(dir.File("env"), dir.File("home"), system))
        {
            Assert.Equal(arg, DatasetRegistry.TryFindRoot("mnist", arg));
            using var fromArg = DatasetRegistry.Load("mnist", arg);
            Assert.Equal([1L], fromArg.Train.Targets.data<long>().ToArray());
            using var fromEnv = DatasetRegistry.Load("MNIST");
            Assert.Equal(env, fromEnv.Source);
            Assert.Equal([2L], fromEnv.Train.Targets.data<long>().ToArray());
        }
        using (new DataEnvironment(null, dir.File("home"), system))
            Assert.Equal(user, DatasetRegistry.TryFindRoot("mnist"));
        using (new DataEnvironment(null, dir.File("nohome"), system))
        {
            using var fromSystem = DatasetRegistry.Load("mnist");
            Assert.Equal(system, fromSystem.Source);
            Assert.Equal([4L], fromSystem.Train.Targets.data<long>().ToArray());
            Assert.Null(DatasetRegistry.TryFindRoot("cifar10"));
            Assert.Null(DatasetRegistry.TryFindRoot("ellipse"));
        }
    }

    /// <summary>A complete dataset in the system folder must never stand in for the folder the user chose.</summary>
    [Theory]
    [InlineData("--data-dir", "lacks-a-file")]
    [InlineData("--data-dir", "absent")]
    [InlineData("--data-dir", "plain-file")]
    [InlineData("$INITPRUNE_DATA", "lacks-a-file")]
    [InlineData("$INITPRUNE_DATA", "absent")]
    [InlineData("$INITPRUNE_DATA", "plain-file")]
    public void A_chosen_folder_without_the_dataset_is_refused_never_replaced(string how, string what)
    {
        using var dir = new TempDir();
        var system = dir.Sub("system");
        DataFiles.WriteMnistLike(Directory.CreateDirectory(Path.Combine(system, "fashion-mnist")).FullName, [1], [1]);
        var chosen = dir.File("chosen");
        string expected;
        switch (what)
        {
            case "lacks-a-file":
                DataFiles.WriteMnistLike(Directory.CreateDirectory(chosen).FullName, [1], [1]);
                File.Delete(Path.Combine(chosen, "t10k-labels-idx1-ubyte"));
                expected = $"{chosen} lacks t10k-labels-idx1-ubyte(.gz) (only that folder is searched";
                break;
            case "absent":
                expected = "the folder does not exist";
                break;
            default:
                File.WriteAllText(chosen, "not a folder");
                expected = "it is a file, not a folder";
                break;
        }
        using var _ = new DataEnvironment(how == "$INITPRUNE_DATA" ? chosen : null, dir.Sub("home"), system);
        var dataDir = how == "--data-dir" ? chosen : null;
        Assert.Null(DatasetRegistry.TryFindRoot("fashion-mnist", dataDir));
        var e = Assert.Throws<InitPruneException>(() => DatasetRegistry.Load("fashion-mnist", dataDir));
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith($"fashion-mnist not found in {how} {chosen}: {expected}", e.Message);
        Assert.DoesNotContain(system, e.Message);
        Assert.Contains("sudo apt-get install dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void MissingFashionMnistSaysWhereItLookedAndHowToInstall()
    {
        using var dir = new TempDir();
        using var _ = new DataEnvironment(null, dir.File("home"), dir.File("system"));
        var e = Assert.Throws<InitPruneException>(() => DatasetRegistry.Load("fashion-mnist"));
        Assert.DoesNotContain('\n', e.Message);
        foreach (var f in new[] { "fashion-mnist not found", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", Path.Combine(dir.File("home"), ".initprune", "data"),
                     dir.File("system"), "fashion-mnist/ subfolder", "sudo apt-get install dataset-fashion-mnist", "--data-dir", "INITPRUNE_DATA" })
            Assert.Contains(f, e.Message);
    }

    [Fact]
    public void MissingCifarSaysHowToDownloadAndWhatIsLacking()
    {
        using var dir = new TempDir();
        using var _ = new DataEnvironment(null, dir.File("home"), dir.File("system"));
        File.WriteAllBytes(dir.File("data_batch_1.bin"), DataFiles.CifarRecords(0, [[1]]));
        var e = Assert.Throws<InitPruneException>(() => DatasetRegistry.Load("cifar10", dir.Path));
        Assert.DoesNotContain('\n', e.Message);
        foreach (var f in new[] { $"cifar10 not found in --data-dir {dir.Path}", "test_batch.bin", $"{dir.Path} lacks data_batch_2.bin", "cifar-10-binary.tar.gz", "--data-dir" })
            Assert.Contains(f, e.Message);
        Assert.DoesNotContain("data_batch_1.bin", e.Message);
    }
}
