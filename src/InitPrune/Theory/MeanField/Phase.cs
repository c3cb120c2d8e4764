namespace InitPrune.Theory;

/// <summary>Where (σw, σb) sits (seed 001 §2.2): χ &lt; 1 ordered, χ = 1 Edge of Chaos, χ &gt; 1 chaotic; divergent when q^l has no fixed point.</summary>
public enum Phase
{
    Ordered,
    EdgeOfChaos,
    Chaotic,
    Divergent,
}
