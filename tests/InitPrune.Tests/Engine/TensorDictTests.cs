using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Tests.Engine;

/// <summary>The one owner of named tensors: what it holds it frees, what it hands over it no longer touches.</summary>
public class TensorDictTests
{
    [Fact]
    public void Keeps_insertion_order_and_frees_every_tensor_it_holds()
    {
        var (b, a, c) = (ones(2), zeros(3), ones(1));
        var dict = new TensorDict();
        dict.Add("b", b);
        dict.Add("a", a);
        dict.Add("c", c);
        Assert.Equal(["b", "a", "c"], dict.Keys);
        Assert.Same(a, dict["a"]);
        dict.Dispose();
        Assert.True(a.IsInvalid && b.IsInvalid && c.IsInvalid);
        Assert.Empty(dict);
        Assert.Throws<ObjectDisposedException>(() => dict.Add("d", ones(1)));
    }

    [Fact]
    public void Take_and_TakeAll_hand_tensors_over()
    {
        var (a, b) = (ones(2), zeros(2));
        using var taken = new TensorDict([KeyValuePair.Create("a", a), KeyValuePair.Create("b", b)]);
        using (var source = new TensorDict([KeyValuePair.Create("a", ones(1))]))
        {
            var (mine, moved) = (source.Take("a"), taken.TakeAll());
            Assert.Empty(source);
            Assert.Empty(taken);
            source.Dispose();
            taken.Dispose();
            Assert.False(mine.IsInvalid || a.IsInvalid || b.IsInvalid);
            mine.Dispose();
            Assert.Equal(["a", "b"], moved.Keys);
            moved.Dispose();
        }
        Assert.True(a.IsInvalid && b.IsInvalid);
        Assert.Throws<KeyNotFoundException>(() => taken.Take("a"));
    }

    [Fact]
    public void Set_frees_the_tensor_it_replaces_and_Add_refuses_a_name_twice()
    {
        var (old, replacement, duplicate) = (ones(2), zeros(2), ones(3));
        using var dict = new TensorDict();
        dict.Add("w", old);
        Assert.Throws<ArgumentException>(() => dict.Add("w", duplicate));
        Assert.False(duplicate.IsInvalid);
        duplicate.Dispose();
        dict.Set("w", replacement);
        Assert.True(old.IsInvalid);
        Assert.Same(replacement, dict["w"]);
    }

    [Fact]
    public void A_failing_selector_frees_what_was_already_built()
    {
        var made = new List<Tensor>();
        Assert.Throws<InvalidOperationException>(() => new[] { 1, 2, 3 }.ToTensorDict(i => $"t{i}", i =>
        {
            if (i == 3) throw new InvalidOperationException("no third tensor");
            var t = ones(i);
            made.Add(t);
            return t;
        }));
        Assert.Equal(2, made.Count);
        Assert.All(made, t => Assert.True(t.IsInvalid));
    }

    [Fact]
    public void CloneOf_copies_borrowed_tensors_without_touching_them()
    {
        using var borrowed = ones(3);
        using (var copy = TensorDict.CloneOf([KeyValuePair.Create("x", borrowed)]))
        {
            Assert.NotSame(borrowed, copy["x"]);
            copy["x"].mul_(2);
        }
        Assert.False(borrowed.IsInvalid);
        Assert.Equal([1f, 1f, 1f], TestNets.Values(borrowed));
    }
}
