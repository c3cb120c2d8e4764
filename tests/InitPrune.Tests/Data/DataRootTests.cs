using InitPrune.Data;
using InitPrune.Engine;

namespace InitPrune.Tests.Data;

[Collection(DataEnvironmentCollection.Name)]
public class DataRootTests
{
    [Fact]
    public void CandidatesFollowTheDocumentedOrder()
    {
        using var dir = new TempDir();
        using var _ = new DataEnvironment(dir.Sub("env"), dir.Sub("home"), dir.Sub("system"));
        Assert.Equal([dir.File("arg"), dir.File("env"), Path.Combine(dir.File("home"), ".initprune", "data"), dir.File("system")],
            DataRoot.Candidates(dir.File("arg")));
        Assert.Equal([dir.File("env"), Path.Combine(dir.File("home"), ".initprune", "data"), dir.File("system")], DataRoot.Candidates());
        Assert.Equal([dir.File("env"), Path.Combine(dir.File("env"), "mnist")], DataRoot.SearchFolders("mnist").Take(2));
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

    [Fact]
    public void MissingFashionMnistSaysWhereItLookedAndHowToInstall()
    {
        using var dir = new TempDir();
        using var _ = new DataEnvironment(null, dir.File("home"), dir.File("system"));
        var e = Assert.Throws<InitPruneException>(() => DatasetRegistry.Load("fashion-mnist", dir.Path));
        Assert.DoesNotContain('\n', e.Message);
        foreach (var f in new[] { "fashion-mnist not found", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", dir.Path, dir.File("system"),
                     "fashion-mnist/ subfolder", "sudo apt-get install dataset-fashion-mnist", "--data-dir", "INITPRUNE_DATA" })
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
        foreach (var f in new[] { "cifar10 not found", "test_batch.bin", $"{dir.Path} lacks data_batch_2.bin", "cifar-10-binary.tar.gz", "--data-dir" })
            Assert.Contains(f, e.Message);
        Assert.DoesNotContain("lacks data_batch_1.bin", e.Message);
    }
}
