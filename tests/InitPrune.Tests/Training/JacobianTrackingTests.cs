using InitPrune.Engine;
using InitPrune.Tests.Data;
using InitPrune.Theory.Jacobian;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Training;

/// <summary><c>train --jacobian-every K</c>: ‖J‖ at step 0 and every K optimizer steps, next to the step's loss.</summary>
public class JacobianTrackingTests
{
    static TrainConfig Config(int every, int epochs = 2, int? maxSteps = null, int inputs = 3, string span = "hidden", string? board = null) =>
        new(Epochs: epochs, BatchSize: 50, LearningRate: 0.05, MaxSteps: maxSteps, JacobianEvery: every, JacobianInputs: inputs, JacobianSpan: span, TensorBoardDir: board);

    [Fact]
    public void The_value_at_step_0_is_JacobianNorm_Average_of_the_initial_network_on_the_seeds_test_inputs()
    {
        using var data = TestNets.Ellipse(n: 1000);
        using var model = TestNets.Mlp(2, [16, 16, 16], 4, seed: 5);
        const long seed = 11;
        var indices = JacobianTracker.InputIndices(data.Test.Count, 3, seed);
        Assert.Equal(3, indices.Distinct().Count());
        Assert.All(indices, i => Assert.InRange(i, 0, data.Test.Count - 1));
        using var inputs = stack([.. indices.Select(i => data.Test.Inputs[i])]);
        var expected = JacobianNorm.Average(model, inputs, JacobianTracker.OptionsFor(JacobianSpan.Hidden, seed));

        var points = new List<JacobianPoint>();
        var trainer = new Trainer(Config(every: 4));
        trainer.JacobianMeasured += points.Add;
        trainer.Train(model, data, seed);

        Assert.Equal((0L, 0, expected.Mean, expected.Std, (double?)null), (points[0].Step, points[0].Epoch, points[0].Norm, points[0].Std, points[0].TrainLoss));
        Assert.True(expected.Mean > 0);
        Assert.All(expected.PerInput, e => Assert.True(e.Converged));
        // Training moves the weights, so later values differ from the initial one.
        Assert.NotEqual(points[0].Norm, points[^1].Norm);
    }

    [Theory]
    [InlineData(7, 30, new long[] { 0, 7, 14, 21, 28 })]
    [InlineData(10, 30, new long[] { 0, 10, 20, 30 })]
    [InlineData(100, 30, new long[] { 0 })]
    public void The_series_has_step_0_and_every_Kth_step_up_to_max_steps_with_that_steps_loss(int every, int maxSteps, long[] steps)
    {
        using var data = TestNets.Ellipse(n: 1000);
        using var model = TestNets.Mlp(2, [8, 8], 4);
        var points = new List<JacobianPoint>();
        var losses = new List<(int Epoch, double Loss)>();
        var trainer = new Trainer(Config(every, epochs: 5, maxSteps: maxSteps, inputs: 2));
        trainer.JacobianMeasured += points.Add;
        trainer.Step += p => losses.Add((p.Epoch, p.Loss));
        trainer.Train(model, data, 0);

        Assert.Equal(maxSteps, losses.Count);
        Assert.Equal(steps, points.Select(p => p.Step));
        foreach (var p in points.Skip(1))
        {
            var (epoch, loss) = losses[(int)p.Step - 1];
            Assert.Equal((epoch, loss), (p.Epoch, p.TrainLoss!.Value));
        }
        Assert.All(points, p => Assert.True(p.Norm > 0 && p.Std >= 0));
    }

    [Fact]
    public void TensorBoard_gets_jacobian_norm_at_each_recorded_step()
    {
        using var dir = new TempDir();
        using var data = TestNets.Ellipse(n: 1000);
        using var model = TestNets.Mlp(2, [8, 8], 4);
        var points = new List<JacobianPoint>();
        var trainer = new Trainer(Config(every: 5, epochs: 1, maxSteps: 12, inputs: 2, board: dir.Path));
        trainer.JacobianMeasured += points.Add;
        trainer.Train(model, data, 0);
        var events = EventFile.Read(Directory.GetFiles(dir.Path, "events.out.tfevents.*").Single());
        Assert.Equal(points.Select(p => (p.Step, (float)p.Norm)), EventFile.Scalars(events, "jacobian/norm"));
        Assert.Equal([0L, 5, 10], points.Select(p => p.Step));
    }

    [Fact]
    public void A_network_without_a_hidden_span_is_refused_in_one_line_and_the_full_span_measures_it()
    {
        using var data = TestNets.Ellipse(n: 500);
        using var model = TestNets.Mlp(2, [8], 4);
        var e = Assert.Throws<InitPruneException>(() => new Trainer(Config(every: 1, epochs: 1, maxSteps: 2)).Train(model, data, 0));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("--jacobian-span full", e.Message);

        var points = new List<JacobianPoint>();
        var trainer = new Trainer(Config(every: 1, epochs: 1, maxSteps: 2, span: "full"));
        trainer.JacobianMeasured += points.Add;
        trainer.Train(model, data, 0);
        Assert.Equal([0L, 1, 2], points.Select(p => p.Step));
    }

    /// <summary>
    /// ‖J‖ of float32 networks whose σ̂² lies outside float32's range (σw² = 4 at depth 80: ~1e12; σw² = 0.5 at depth 100:
    /// ~1e-31) equals the measurement of the same weights in float64 (seed 002 Fig. 1's corners).
    /// </summary>
    [Theory]
    [InlineData(4.0, 80)]
    [InlineData(0.5, 100)]
    public void Float32_networks_measure_norms_beyond_float32s_range_of_the_squared_norm(double sigmaW2, int depth)
    {
        nn.Module<Tensor, Tensor> Build()
        {
            var m = InitPrune.Models.ModelRegistry.Create(new InitPrune.Models.ModelSpec("mlp", depth, 32, Activation: "relu"), 8, 4);
            InitPrune.Init.Initializers.Apply(m, new InitPrune.Init.InitSpec("normal", Math.Sqrt(sigmaW2), 0), 3);
            return m;
        }
        using var single = Build();
        using var wide = Build();
        wide.to(float64);
        using var x = randn(8, generator: new TorchSharp.torch.Generator(1));
        var options = new JacobianOptions(JacobianSpan.Hidden, 1e-4, 500, 7);
        var a = JacobianNorm.Estimate(single, x, options);
        var b = JacobianNorm.Estimate(wide, x, options);
        Assert.True(sigmaW2 > 2 ? b.Norm > 1e10 : b.Norm < 1e-23, $"float64 ‖J‖ = {b.Norm}");
        Assert.True(a.Converged);
        Assert.Equal(1, a.Norm / b.Norm, 1e-3);
    }

    [Theory]
    [InlineData(-1, 8, "hidden", "--jacobian-every -1 is impossible")]
    [InlineData(1, 0, "hidden", "--jacobian-inputs 0 is impossible")]
    [InlineData(1, 8, "input", "unknown Jacobian span 'input'")]
    public void Impossible_tracking_options_are_refused(int every, int inputs, string span, string message)
    {
        var e = Assert.Throws<InitPruneException>(() => new TrainConfig(JacobianEvery: every, JacobianInputs: inputs, JacobianSpan: span).Validate());
        Assert.StartsWith(message, e.Message);
    }
}
