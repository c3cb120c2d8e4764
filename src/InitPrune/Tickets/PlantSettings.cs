using InitPrune.Engine;

namespace InitPrune.Tickets;

/// <summary>The options of <c>initprune plant</c>, declared once (the command line and its help derive from them).</summary>
public sealed record PlantSettings(
    [Opt("Widths n_0,...,n_L of the random target (ReLU after every hidden layer, linear output; weights and biases ~ U[-1,1]); ignored with --target", Cite = "seed 004 §1.2, Theorem 5")] string Architecture = "2,6,1",
    [Opt("Sup-norm error ε the planted ticket must meet: sup over [-1,1]^n_0 of ‖f(x) − λ f_ε(x)‖₂ ≤ ε", Min = 0, MinOpen = true, Max = 1, MaxOpen = true, Cite = "seed 004 Theorem 5")] double Epsilon = 0.1,
    [Opt("Failure probability δ; enters the widths through δ_l = δ/(L k_l,max n_l)", Min = 0, MinOpen = true, Max = 1, MaxOpen = true, Cite = "seed 004 Theorem 5 (B.4)")] double Delta = 0.01,
    [Opt("The universal constant C of Theorem 5: the wide layer 2l−1 gets ⌈C n_(l−1) log(1/min{ε_l, δ_l})⌉ neurons", Min = 0, MinOpen = true, Cite = "seed 004 Theorem 5 (B.4)")] double C = 8,
    [Opt("σ_w of the mother's uniform draw (slt-uniform): w ~ U[−s_l, s_l], s_l = √3·σ_w/√fan_in, b ~ U[−Π s_k, Π s_k]; λ = Π 1/s_l", Min = 0, MinOpen = true, Cite = "seed 004 Theorem 5")] double SigmaW = 1.4142135623730951,
    [Opt("Grid points per axis of the sup-norm check when n_0 ≤ 2", Min = 2)] int GridPoints = 201,
    [Opt("Uniform samples of [-1,1]^n_0 (plus the corners when n_0 ≤ 12) for the sup-norm check when n_0 > 2", Min = 1)] int Samples = 20000,
    [Opt("Epochs of edge-popup-scaled on the same mother network at the planted ticket's kept fraction ρ (every weight and bias tensor keeps ρ of its entries, edge-popup's layer-wise top-k)", Min = 1, Cite = "seed 004 §3, §5")] int EdgePopupEpochs = 10,
    [Opt("Skip the edge-popup comparison (only plant and check)")] bool SkipEdgePopup = false,
    [Opt("Training samples x ~ U[-1,1]^n_0 (targets f(x)) for edge-popup's MSE regression; a quarter as many test samples", Min = 32)] int EdgePopupSamples = 2048,
    [Opt("Initial learning rate of edge-popup's scores (cosine to 0; SGD momentum 0.9, weight decay 5e-4, batch 32)", Min = 0, MinOpen = true, Cite = "seed 004 §6")] double EdgePopupLr = 0.1)
{
    public PlantConfig ToConfig() => new(Epsilon, Delta, C, SigmaW);
}
