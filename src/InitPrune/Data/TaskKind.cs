namespace InitPrune.Data;

/// <summary>What the targets of a <see cref="Dataset"/> are.</summary>
public enum TaskKind
{
    /// <summary>int64 class labels of shape [N].</summary>
    Classification,

    /// <summary>float32 values of shape [N, 1].</summary>
    Regression,
}
