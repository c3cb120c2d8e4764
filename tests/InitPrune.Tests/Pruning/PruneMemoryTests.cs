using System.Runtime.InteropServices;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using InitPrune.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

/// <summary>
/// Runs alone (after every parallel test, with none beside it): the resident set size is a process-wide figure,
/// which other tests' tensors, allocated and freed at the same time, would move.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeMemoryCollection
{
    public const string Name = "native memory";
}

/// <summary>Pruning over and over frees all it allocates: native memory stays flat.</summary>
[Collection(NativeMemoryCollection.Name)]
public class PruneMemoryTests(ITestOutputHelper output)
{
    const int Rounds = 30;
    const int WarmUpRounds = 5;

    /// <summary>
    /// A round allocates about 2.5 MiB of scores alone (8 methods × 50 000 float32 weights, GraSP's in float64), so
    /// keeping the scores of every prune alive grows the process by about 60 MiB over the 25 measured rounds (measured:
    /// 65 MiB). With everything freed the growth is allocator noise once libtorch's and glibc's free lists settled in
    /// the warm-up rounds (measured: 0.7 to 3.3 MiB). 16 MiB is several times the noise and a quarter of that leak.
    /// Scores that are dropped without Dispose are not caught here: the collection below lets TorchSharp's finalizers
    /// free them, so this guards against tensors kept reachable (held, or left in a dispose scope) and native leaks.
    /// </summary>
    const long MarginBytes = 16L << 20;

    [Fact]
    public void Pruning_with_every_method_thirty_times_leaves_native_memory_flat()
    {
        using var dir = new TempDir();
        using var gen = new Generator(7);
        using var flat = randn([64, 64], generator: gen);
        using var labels = randint(0, 4, [64], generator: gen);
        using var images = randn([8, 3, 8, 8], generator: gen);
        using var imageLabels = randint(0, 4, [8], generator: gen);
        using var impData = TestNets.Ellipse(n: 200);
        var numericMask = dir.File("numeric-mask.safetensors");
        using (var m = randint(0, 2, [192, 64], generator: gen).to(ScalarType.Float32))
            Safetensors.Save(numericMask, new Dictionary<string, Tensor> { ["layers.0.weight"] = m });
        var weights = dir.File("weights.safetensors");
        using (var model = Mlp(0))
            Safetensors.Save(weights, Network.StateDict(model));

        // Magnitude rescaling allocates as random rescaling does (one full_like per layer) but integrates numerically for seconds.
        RescaleSpec?[] rescales = [null, new(), new(Fixed: true), new(RescaleMethod.Random)];
        var init = new InitSpec("normal", 2, 0, Activation: "relu");
        long warm = 0;
        for (int round = 1; round <= Rounds; round++)
        {
            foreach (var method in PrunerRegistry.Methods.Where(m => !m.Trains).Select(m => m.Name))
            {
                var options = new MethodOptions(init: init);
                if (method == SynFlowScorer.Info.Name) options = options.With(SynFlowScorer.Iterations, 5);
                bool stable = method.EndsWith("-sr", StringComparison.Ordinal);
                using var model = stable ? StableResNet(round) : Mlp(round);
                var context = stable
                    ? new ScoringContext(images, imageLabels, TaskKind.Classification, round)
                    : new ScoringContext(flat, labels, TaskKind.Classification, round);
                // ln-structured is layer-wise only.
                var scope = round % 2 == 0 && method != LnStructuredMethod.Info.Name ? PruneScope.Global : PruneScope.LayerWise;
                var spec = new PruneSpec(method, 0.8, scope,
                    IncludeBiases: round % 3 == 0, Options: options, Rescale: rescales[round % rescales.Length]);
                using var result = Pruner.Prune(model, spec, context);
                Assert.True(result.Mask.Kept > 0, method);
            }
            using (var model = TestNets.Mlp(2, [64, 64], 4, seed: round))
            using (var imp = IterativeMagnitudePruning.Run(model, impData, new TrainConfig(Epochs: 1, BatchSize: 50, LearningRate: 0.05),
                new PruneSpec("imp", 0.5), rounds: 1, seed: round))
                Assert.Equal(MaskBuilder.KeepCount(0.5, imp.Mask.Total), imp.Mask.Kept);
            using (var mask = Mask.Load(numericMask))
                Assert.Equal(192 * 64, mask.Total);
            using (var state = Safetensors.Load(weights))
                Assert.Equal(6, state.Count);
            if (round == WarmUpRounds) warm = SettledResidentBytes();
        }
        long end = SettledResidentBytes();
        output.WriteLine($"resident after round {WarmUpRounds}: {Memory.Bytes(warm)}; after round {Rounds}: {Memory.Bytes(end)}; growth {(end - warm) / 1048576.0:F1} MiB");
        Assert.True(end - warm < MarginBytes,
            $"native memory grew by {Memory.Bytes(end - warm)} over {Rounds - WarmUpRounds} rounds of pruning (from {Memory.Bytes(warm)} to {Memory.Bytes(end)}), more than {Memory.Bytes(MarginBytes)}: something is not disposed");
    }

    /// <summary>An MLP of 64 → 192 → 192 → 4 (about 50 000 weights, 0.2 MB of float32 scores).</summary>
    static nn.Module<Tensor, Tensor> Mlp(long seed) => TestNets.Mlp(64, [192, 192], 4, seed);

    static nn.Module<Tensor, Tensor> StableResNet(long seed)
    {
        var model = ModelRegistry.Create(new ModelSpec("resnet8", WidthMultiplier: 0.5, Stable: true), [3, 8, 8], 4);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), 0), seed);
        return model;
    }

    /// <summary>VmRSS once every unreachable tensor was finalized and glibc returned its free memory to the system.</summary>
    static long SettledResidentBytes()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc: the allocator keeps its free lists, which the warm-up has already filled.
        }
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);
}
