"""srma.figures."""
