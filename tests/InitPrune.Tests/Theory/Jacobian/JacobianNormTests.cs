using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Theory.Jacobian;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Jacobian;

public class JacobianNormTests
{
    static readonly JacobianOptions Tight = new(Tolerance: 1e-12, MaxIterations: 5000);

    public static TheoryData<string, bool, JacobianSpan> Cases()
    {
        var data = new TheoryData<string, bool, JacobianSpan>();
        foreach (var name in JacobianNets.Names)
            foreach (bool pruned in new[] { false, true })
                foreach (var span in new[] { JacobianSpan.Hidden, JacobianSpan.Full })
                    data.Add(name, pruned, span);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PowerIterationEqualsTheLargestSingularValueOfTheExplicitMatrix(string name, bool pruned, JacobianSpan span)
    {
        using var model = JacobianNets.Build(name, pruned);
        using var x = JacobianNets.Input(name);
        using var j = JacobianNorm.Explicit(model, x, span);
        using var sv = linalg.svdvals(j);
        double exact = sv[0].ToDouble();
        var estimate = JacobianNorm.Estimate(model, x, Tight with { Span = span });
        Assert.True(estimate.Converged, $"{name}: not converged after {estimate.Iterations}");
        Assert.True(exact > 0);
        Assert.True(Math.Abs(estimate.Norm - exact) <= 1e-6 * exact, $"{name} {span}: power {estimate.Norm} vs SVD {exact}");
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("vcnn")]
    [InlineData("vgg11-bn")]
    [InlineData("resnet8")]
    public void TheSpanPartsRecomposeTheForwardPass(string name)
    {
        using var model = JacobianNets.Build(name, pruned: true);
        model.eval();
        using var scope = NewDisposeScope();
        var x = JacobianNets.Input(name).unsqueeze(0);
        var parts = JacobianSpans.Require(model);
        Assert.True(parts.Head(parts.Body(parts.Stem(x))).allclose(model.forward(x), rtol: 1e-12, atol: 1e-12));
    }

    [Theory]
    [InlineData("mlp", JacobianSpan.Hidden)]
    [InlineData("mlp", JacobianSpan.Full)]
    [InlineData("vcnn", JacobianSpan.Hidden)]
    [InlineData("resnet8", JacobianSpan.Hidden)]
    public void TheExplicitMatrixMatchesCentralFiniteDifferences(string name, JacobianSpan span)
    {
        using var model = JacobianNets.Build(name, pruned: true);
        model.eval();
        using var scope = NewDisposeScope();
        var x = JacobianNets.Input(name).unsqueeze(0);
        var parts = JacobianSpans.Require(model);
        Func<Tensor, Tensor> f = span == JacobianSpan.Hidden ? parts.Body : model.forward;
        var z = span == JacobianSpan.Hidden ? parts.Stem(x) : x;
        var j = JacobianNorm.Explicit(model, x.squeeze(0), span);
        const double h = 1e-6;
        for (long c = 0; c < z.numel(); c += Math.Max(1, z.numel() / 12))
        {
            var e = zeros(z.numel(), dtype: float64);
            e[c] = h;
            var column = f(z + e.view(z.shape)).sub(f(z - e.view(z.shape))).flatten().div(2 * h);
            Assert.True(column.allclose(j[.., c], rtol: 1e-5, atol: 1e-7), $"{name} column {c}");
        }
    }

    [Fact]
    public void TheHiddenSpanOfAnMlpIsTheProductOfWeightsAndActivationPatterns()
    {
        using var model = JacobianNets.Build("mlp", pruned: true);
        using var scope = NewDisposeScope();
        var x = JacobianNets.Input("mlp");
        var w = Network.StateDict(model);
        // Seed 002 §2: Y_0 = W_in x + b, Y_l = W_l φ(Y_{l−1}) + b_l, J_1 = ∏_{l=1}^{L} W_l D_{l−1}, here L = depth − 1 = 3.
        var y = w["layers.0.weight"].matmul(x) + w["layers.0.bias"];
        var product = eye(y.numel(), dtype: float64);
        for (int l = 1; l <= 3; l++)
        {
            var d = diag(y.gt(0).to(float64));
            var wl = w[$"layers.{2 * l}.weight"];
            product = wl.matmul(d).matmul(product);
            y = wl.matmul(y.relu()) + w[$"layers.{2 * l}.bias"];
        }
        Assert.True(JacobianNorm.Explicit(model, x, JacobianSpan.Hidden).allclose(product, rtol: 1e-12, atol: 1e-12));
        Assert.Equal(3, JacobianSpans.Require(model).Depth);
    }

    [Fact]
    public void ACloseTopGapEitherConvergesOrSaysItDidNot()
    {
        // A linear MLP of depth 2 has J_1 = W_1; singular values 1 and 0.9999 need ~10⁵ steps at tolerance 1e-10.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [4, 4], Activation: "linear"), 4, 2);
        model.to(float64);
        var w1 = Network.StateDict(model)["layers.2.weight"];
        using (no_grad()) w1.copy_(diag(tensor(new[] { 1.0, 0.9999, 0.5, 0.1 })));
        using var x = ones(4, dtype: float64);
        var e = JacobianNorm.Estimate(model, x, new JacobianOptions(Tolerance: 1e-10, MaxIterations: 200));
        Assert.True(e.Converged ? Math.Abs(e.Norm - 1) <= 1e-9 : e.Iterations == 200 && e.Norm <= 1 + 1e-12);
        Assert.False(e.Converged);
        var loose = JacobianNorm.Estimate(model, x, new JacobianOptions(Tolerance: 1e-3, MaxIterations: 200));
        Assert.True(loose.Converged && Math.Abs(loose.Norm - 1) <= 1e-3);
    }

    [Fact]
    public void TheModelKeepsItsModeParametersAndGradients()
    {
        using var model = JacobianNets.Build("vgg11-bn", pruned: true);
        model.train();
        var bn = Network.Modules(model).First(m => m.Module is MaskedBatchNorm2d).Module;
        bn.eval();
        using var before = Network.CloneStateDict(model);
        var buffers = model.named_buffers().ToDictionary(b => b.name, b => b.buffer.clone());
        using var x = JacobianNets.Input("vgg11-bn", 3);
        using var batch = stack([x, x.mul(0.5)]);
        var summary = JacobianNorm.Average(model, batch, Tight with { Tolerance = 1e-8 });
        Assert.Equal(2, summary.PerInput.Count);
        Assert.True(model.training && !bn.training);
        Assert.All(model.named_parameters(), p => Assert.True(p.parameter.allclose(before[p.name], 0, 0) && p.parameter.grad is null));
        Assert.All(model.named_buffers(), b => Assert.True(b.buffer.allclose(buffers[b.name], 0, 0)));
        Assert.Equal(summary.PerInput.Average(e => e.Norm), summary.Mean, 12);
    }

    [Fact]
    public void AModelWithoutAHiddenSpanIsAOneLineError()
    {
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Depth: 1, Width: 4), 3, 2);
        var error = Assert.Throws<InitPruneException>(() => JacobianNorm.Estimate(model, ones(3), new JacobianOptions()));
        Assert.Contains("--span full", error.Message);
        Assert.True(JacobianNorm.Estimate(model, ones(3), new JacobianOptions(JacobianSpan.Full, 1e-5)).Converged);
    }
}
