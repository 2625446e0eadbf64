"""srma.analysis."""
