using InitPrune.Engine;

namespace InitPrune.Theory.Jacobian;

/// <summary>Which Jacobian <see cref="JacobianNorm"/> measures.</summary>
public enum JacobianSpan
{
    /// <summary>Seed 002's J_1 = ∂Y_L/∂Y_0, hidden pre-activation to hidden pre-activation (<see cref="JacobianSpans"/>).</summary>
    Hidden,

    /// <summary>∂(network output)/∂(input x).</summary>
    Full,
}

/// <summary>
/// How to estimate ‖J‖. Power iteration stops at the first step whose relative residual
/// ‖JᵀJv − σ²v‖/σ² is at most <paramref name="Tolerance"/> (see <see cref="JacobianNorm.Estimate"/>), or after
/// <paramref name="MaxIterations"/> steps, reporting non-convergence. <paramref name="Seed"/> draws the start vector.
/// </summary>
public sealed record JacobianOptions(JacobianSpan Span = JacobianSpan.Hidden, double Tolerance = 1e-6, int MaxIterations = 1000, long Seed = 0)
{
    /// <summary>Throws a one-line error for an impossible tolerance or iteration count.</summary>
    public void Validate()
    {
        if (!(Tolerance > 0 && Tolerance < 1)) throw new InitPruneException($"tolerance {Tolerance} is impossible: it must be in (0, 1)");
        if (MaxIterations < 1) throw new InitPruneException($"{MaxIterations} iterations is impossible: use at least 1");
    }
}

/// <summary>
/// One power-iteration estimate: <paramref name="Norm"/> = σ̂, the largest singular value found;
/// <paramref name="RelativeChange"/> = |σ̂_k − σ̂_{k−1}|/σ̂_k at the last step (informational);
/// <paramref name="Converged"/> whether the residual test passed within the iteration budget.
/// </summary>
public sealed record JacobianEstimate(double Norm, int Iterations, double RelativeChange, bool Converged);

/// <summary>‖J‖ over a batch of inputs: mean and standard deviation (n − 1 denominator; 0 for one input) of the per-input norms.</summary>
public sealed record JacobianSummary(double Mean, double Std, IReadOnlyList<JacobianEstimate> PerInput);
