using InitPrune.Engine;

namespace InitPrune.Data;

/// <summary>Builds the one-line <see cref="InitPruneException"/> the data layer raises for bad input.</summary>
internal static class DataError
{
    public static InitPruneException Create(string message, Exception? inner = null) =>
        new(message.ReplaceLineEndings(" "), inner: inner);
}
