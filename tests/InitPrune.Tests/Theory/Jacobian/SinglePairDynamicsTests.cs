using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Theory.Jacobian;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Jacobian;

public class SinglePairDynamicsTests
{
    static List<Tensor> Weights(Generator g, int n, int depth) =>
        [.. Enumerable.Range(0, depth).Select(_ => randn(n, n, dtype: float64, generator: g).mul(Math.Sqrt(2.0 / n)))];

    [Fact]
    public void The_product_of_W_l_D_l_minus_1_is_the_Jacobian_of_Y_L_in_Y_0_by_central_differences()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        const int n = 6;
        var w = Weights(g, n, 3);
        var y0 = randn(n, dtype: float64, generator: g);
        var j = SinglePairDynamics.Product(w, y0);
        const double h = 1e-6;
        for (int col = 0; col < n; col++)
        {
            var e = zeros(n, dtype: float64);
            e[col] = h;
            var fd = SinglePairDynamics.Forward(w, y0.add(e)).sub(SinglePairDynamics.Forward(w, y0.sub(e))).div(2 * h);
            for (int row = 0; row < n; row++) Assert.Equal(fd[row].ToDouble(), j[row, col].ToDouble(), 6);
        }
    }

    [Fact]
    public void One_gradient_step_of_a_single_layer_is_the_hand_derived_one()
    {
        // L = 1: L(W) = (2n)⁻¹‖W φ(Y_0) − z‖², so ∂L/∂W = n⁻¹ (W φ(Y_0) − z) φ(Y_0)ᵀ.
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        const int n = 5;
        const double gamma = 0.3;
        var w = Weights(g, n, 1);
        var y0 = randn(n, dtype: float64, generator: g);
        var z = randn(n, dtype: float64, generator: g);
        var a = nn.functional.relu(y0);
        var expected = w[0].sub(w[0].matmul(a).sub(z).outer(a).div(n).mul(gamma));
        var (loss, next) = SinglePairDynamics.Step(w, y0, z, gamma);
        Assert.Equal(w[0].matmul(a).sub(z).square().sum().ToDouble() / (2 * n), loss, 12);
        Assert.True(allclose(expected, next[0], rtol: 0, atol: 1e-14));
    }

    [Fact]
    public void Small_steps_never_raise_the_loss_and_a_draw_is_reproducible()
    {
        var request = new SinglePairRequest([16], [3], RateRule.Theorem2, 0.5, Steps: 20, Every: 5, Seeds: 1);
        var (steps, norms, start, end) = SinglePairDynamics.Trajectory(16, 3, request, 0);
        Assert.Equal([0, 5, 10, 15, 20], steps);
        Assert.True(end < start, $"loss {start} → {end}");
        var again = SinglePairDynamics.Trajectory(16, 3, request, 0);
        Assert.Equal(norms, again.Norms);
        Assert.NotEqual(norms, SinglePairDynamics.Trajectory(16, 3, request, 1).Norms);
    }

    [Fact]
    public void The_rates_are_the_theorems_orders()
    {
        Assert.Equal(2.0 / (64 * 125), new SinglePairRequest([64], [5], RateRule.Theorem2, 2, 1, 1, 1).Rate(64, 5), 15);
        Assert.Equal(0.5 / (64 * Math.Pow(Math.Log(64), 1.5)), new SinglePairRequest([64], [5], RateRule.Theorem3, 0.5, 1, 1, 1).Rate(64, 5), 15);
        Assert.Equal(1.0 / 64, new SinglePairRequest([64], [5], RateRule.Mu, 1, 1, 1, 1).Rate(64, 5), 15);
    }

    [Fact]
    public void The_command_prints_json_rows_and_writes_its_artefacts()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("theory", "jacobian-gd", "--widths", "8,16", "--depths", "2", "--steps", "4", "--every", "2", "--seeds", "2", "--out", dir.Path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = r.Json.GetProperty("rows");
        Assert.Equal(2, rows.GetArrayLength());
        Assert.Equal([0, 2, 4], rows[0].GetProperty("steps").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(File.Exists(Path.Combine(dir.Path, "jacobian-gd.json")));
        Assert.True(File.Exists(Path.Combine(dir.Path, "single-pair-change-vs-width.png")));
    }

    [Theory]
    [InlineData("--widths", "1", "--widths must be widths n ≥ 2")]
    [InlineData("--rate", "fast", "unknown --rate 'fast'")]
    [InlineData("--every", "100", "--every 100 is impossible")]
    public void Bad_input_is_one_line(string option, string value, string message)
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("theory", "jacobian-gd", option, value, "--out", dir.Path);
        Assert.Contains(message, CliRunner.AssertOneLineError(r));
    }
}
