using System.Collections;
using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace InitPrune.Engine;

/// <summary>
/// Named tensors that this collection owns, in insertion order (scores, masks, state-dict copies, rescale factors).
/// Ownership: <see cref="Add"/> takes a tensor over and <see cref="Dispose"/> frees every tensor still held; reading
/// (indexer, enumeration) only borrows; <see cref="Take"/> and <see cref="TakeAll"/> hand tensors over to the caller.
/// </summary>
public sealed class TensorDict : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    OrderedDictionary<string, Tensor> tensors = new(StringComparer.Ordinal);
    bool disposed;

    public TensorDict()
    {
    }

    /// <summary>Takes over every tensor of <paramref name="owned"/> (names must be distinct; on a duplicate all are freed).</summary>
    public TensorDict(IEnumerable<KeyValuePair<string, Tensor>> owned)
    {
        try
        {
            foreach (var (name, t) in owned) AddOrFree(name, t);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Takes ownership of <paramref name="tensor"/>; a name already present is an error (and the tensor stays the caller's).</summary>
    public void Add(string name, Tensor tensor)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!tensors.TryAdd(name, tensor)) throw new ArgumentException($"a tensor named '{name}' is already in the collection", nameof(name));
    }

    /// <summary>As <see cref="Add"/>, but a tensor that cannot be added is freed (it was handed over).</summary>
    internal void AddOrFree(string name, Tensor tensor)
    {
        try
        {
            Add(name, tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Takes ownership of <paramref name="tensor"/>, freeing the tensor it replaces under <paramref name="name"/>.</summary>
    public void Set(string name, Tensor tensor)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (tensors.TryGetValue(name, out var old) && !ReferenceEquals(old, tensor)) old.Dispose();
        tensors[name] = tensor;
    }

    /// <summary>Removes <paramref name="name"/> and hands its tensor to the caller, who must dispose it.</summary>
    public Tensor Take(string name) =>
        tensors.Remove(name, out var t) ? t : throw new KeyNotFoundException($"no tensor named '{name}'");

    /// <summary>Hands every tensor to a new collection (the caller's) and leaves this one empty: the way to return what a <c>using</c> guarded.</summary>
    public TensorDict TakeAll()
    {
        var moved = new TensorDict { tensors = tensors };
        tensors = new(StringComparer.Ordinal);
        return moved;
    }

    /// <summary>Moves every tensor out of the current TorchSharp dispose scope (into the enclosing one, or none), so that the scope does not free them.</summary>
    public TensorDict MoveToOuterDisposeScope()
    {
        foreach (var t in tensors.Values) t.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Detached copies of <paramref name="source"/>'s tensors (borrowed, e.g. a model's parameters), owned by the result.</summary>
    public static TensorDict CloneOf(IEnumerable<KeyValuePair<string, Tensor>> source)
    {
        var copy = new TensorDict();
        try
        {
            foreach (var (name, t) in source)
            {
                using var view = t.detach();
                copy.AddOrFree(name, view.clone());
            }
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    public Tensor this[string name] => tensors[name];
    public IEnumerable<string> Keys => tensors.Keys;
    public IEnumerable<Tensor> Values => tensors.Values;
    public int Count => tensors.Count;
    public bool ContainsKey(string key) => tensors.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value) => tensors.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => tensors.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Frees every tensor still held; further <see cref="Add"/> calls are errors, reading finds it empty.</summary>
    public void Dispose()
    {
        disposed = true;
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }
}

/// <summary>Building a <see cref="TensorDict"/> from a sequence, freeing what was built when a selector throws.</summary>
public static class TensorDictExtensions
{
    /// <summary>The tensors <paramref name="tensor"/> makes (new ones, owned by the result), keyed by <paramref name="name"/>, in order.</summary>
    public static TensorDict ToTensorDict<T>(this IEnumerable<T> source, Func<T, string> name, Func<T, Tensor> tensor)
    {
        var result = new TensorDict();
        try
        {
            foreach (var item in source)
            {
                var key = name(item);
                result.AddOrFree(key, tensor(item));
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }
}
