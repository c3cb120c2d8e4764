using InitPrune.Engine;

namespace InitPrune.Experiments.Sweeps;

/// <summary>What a store copy moved: the sweeps, their runs (and how many of those the target held already), epochs and ‖J‖ points.</summary>
public sealed record StoreTransferResult(string From, string To, IReadOnlyList<string> Sweeps, int Runs, int RunsAlreadyThere, int Epochs, int JacobianPoints);

/// <summary>
/// <c>initprune store export|import</c>: copies sweeps, with every row of their runs, from one results store to another
/// of either kind (SQLite ↔ PostgreSQL), in one transaction on the target. Records are copied as stored (JSON text,
/// times to the microsecond), so a report from either store is the same to the byte.
/// </summary>
public static class StoreTransfer
{
    /// <summary>
    /// Copies <paramref name="sweeps"/> (every sweep when null or empty) from <paramref name="from"/> to <paramref name="to"/>;
    /// the option names are for messages. A SQLite target that did not exist is removed again when the copy is refused.
    /// </summary>
    public static StoreTransferResult Copy(string from, string to, IReadOnlyList<string>? sweeps = null, string fromOption = "--store", string toOption = "--to")
    {
        var source = ResultsStores.Parse(from, fromOption);
        var target = ResultsStores.Parse(to, toOption);
        if (source.Kind == target.Kind && source.Display == target.Display)
            throw new InitPruneException($"{fromOption} and {toOption} name the same store ({source.Display}): name another store to copy to");
        using var reader = ResultsStores.Open(from, mustExist: true, fromOption);
        var dump = reader.Dump(sweeps is { Count: > 0 } ? sweeps : null);
        var created = target.Kind == StoreKind.Sqlite && !File.Exists(target.Path);
        try
        {
            using var writer = ResultsStores.Open(to, option: toOption);
            var already = writer.Restore(dump);
            return new StoreTransferResult(source.Display, target.Display, [.. dump.Sweeps.Select(s => s.Key)], dump.Runs.Count, already, dump.Epochs.Count, dump.Jacobian.Count);
        }
        catch when (created)
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(target.Path + suffix);
            throw;
        }
    }
}
