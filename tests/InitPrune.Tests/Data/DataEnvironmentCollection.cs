namespace InitPrune.Tests.Data;

/// <summary>Tests that change process-wide data lookup (environment, system folder) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DataEnvironmentCollection
{
    public const string Name = "data environment";
}
