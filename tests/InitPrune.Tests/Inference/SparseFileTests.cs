using InitPrune.Engine;
using InitPrune.Inference;
using InitPrune.IO;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Inference;

/// <summary>The sparse file's metadata checks, shared by every family.</summary>
public sealed class SparseFileTests
{
    [Theory]
    [InlineData("mlp", "layers or input_shape missing")]
    [InlineData("pooled-convnet", "convs, classifier or input_shape missing")]
    [InlineData("resnet", "stem, blocks, classifier or input_shape missing")]
    [InlineData("convnet-linear-head", "convs, layers or input_shape missing")]
    public void A_file_whose_architecture_lacks_its_parts_is_refused_in_one_line(string family, string missing)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.sparse.safetensors");
        using (var tensors = new TensorDict()) SparseFile.Save(path, tensors, $$"""{"family":"{{family}}","model":"x","activation":"relu"}""");
        var e = Assert.Throws<InitPruneException>(() => SparseFile.Load(path));
        Assert.Equal($"{path}: its architecture metadata is not valid ({missing})", e.Message);
    }
}
