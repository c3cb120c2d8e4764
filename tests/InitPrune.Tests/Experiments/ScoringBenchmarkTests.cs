using InitPrune.Experiments;
using InitPrune.Pruning;

namespace InitPrune.Tests.Experiments;

/// <summary>`bench --scoring` at a tiny size: every default method prunes (each gets only the options it declares). Times are not checked.</summary>
public class ScoringBenchmarkTests
{
    [Fact]
    public void Every_default_method_is_timed_on_a_small_resnet()
    {
        var timings = ScoringBenchmark.Run(["resnet20"], batchSize: 4, synflowIterations: 2);
        Assert.Equal(ScoringBenchmark.DefaultMethods, timings.Select(t => t.Method));
        foreach (var t in timings)
        {
            Assert.True(t.ScoringSeconds > 0 && t.TrainStepSeconds > 0, $"{t.Method}: {t.ScoringSeconds} s, step {t.TrainStepSeconds} s");
            Assert.Equal(t.ScoringSeconds / t.TrainStepSeconds, t.Ratio, 1e-12);
        }
    }

    [Fact]
    public void Only_synflow_gets_the_iteration_count_and_snip_and_grasp_stay_single_shot()
    {
        Assert.Equal(7, ScoringBenchmark.Spec("synflow", 7).Options!.Integer(SynFlowScorer.Iterations));
        foreach (var method in new[] { "snip", "grasp" })
            Assert.Equal(1, ScoringBenchmark.Spec(method, 7).Options!.Integer(MultiShotScorer.Iterations));
        foreach (var method in ScoringBenchmark.DefaultMethods)
            ScoringBenchmark.Spec(method, 7).Options!.Validate(PrunerRegistry.Get(method));
    }
}
