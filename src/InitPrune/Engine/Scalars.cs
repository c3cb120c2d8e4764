using TorchSharp;

namespace InitPrune.Engine;

/// <summary>
/// TorchSharp turns a number passed to a tensor operation into a native <see cref="Scalar"/> with a finalizer, and
/// passes only its handle to native code; a garbage collection during that call can finalize (free) the Scalar while
/// libtorch still reads it ("Expected false to be true … toFloat", seen in the optimizer step). Hot paths therefore
/// pass Scalars that stay reachable for the whole call: the constants here, or ones they hold and dispose themselves.
/// TorchSharp's one-argument overloads hide such a temporary too: <c>t.add_(s)</c> is <c>t.add_(s, 1)</c> with a fresh
/// Scalar alpha, so hot paths write <c>t.add_(s, Scalars.One)</c> (this was RMSprop's and Adam's GC-stress failure).
/// </summary>
public static class Scalars
{
    /// <summary>1, e.g. for <c>a.add(b, Scalars.One)</c> instead of <c>a.add(b)</c> (whose alpha is a temporary Scalar).</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>−1, the score of entries an iterative method pruned earlier.</summary>
    public static readonly Scalar MinusOne = (-1.0).ToScalar();

    /// <summary>−∞, the score of entries multi-shot SNIP/GraSP pruned earlier (GraSP's scores have either sign).</summary>
    public static readonly Scalar MinusInfinity = double.NegativeInfinity.ToScalar();
}
