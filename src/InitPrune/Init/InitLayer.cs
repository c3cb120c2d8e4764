using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>
/// One masked layer as an initializer sees it: its place in forward order and its weight's shape
/// ([out, in] or [out, in, k, …]). Fan-in and fan-out count the kernel area, as PyTorch does.
/// </summary>
public sealed record InitLayer(int Index, int Count, long[] Shape, ScalarType DType)
{
    public long Outputs => Shape[0];
    public long Inputs => Shape[1];
    public long KernelArea => Shape.Skip(2).Aggregate(1L, (a, b) => a * b);
    public long FanIn => Inputs * KernelArea;
    public long FanOut => Outputs * KernelArea;
    public bool IsFirst => Index == 0;
    public bool IsLast => Index == Count - 1;
}
