using TorchSharp;

namespace InitPrune.Tests.Engine;

public class EngineTests
{
    [Fact]
    public void ForwardAndBackwardMatchClosedForm()
    {
        // y = sum(x^2 * w) => dy/dx = 2 x w, dy/dw = x^2.
        var x = torch.tensor(new float[] { 1f, -2f, 3f }).requires_grad_();
        var w = torch.tensor(new float[] { 0.5f, 1.5f, -1f }).requires_grad_();
        var y = (x * x * w).sum();
        y.backward();
        Assert.Equal(0.5f * 1 + 1.5f * 4 - 9f, y.item<float>(), 5);
        Assert.Equal(new float[] { 1f, -6f, -6f }, x.grad!.data<float>().ToArray());
        Assert.Equal(new float[] { 1f, 4f, 9f }, w.grad!.data<float>().ToArray());
        Assert.StartsWith("2.10", torch.__version__);
    }
}
