"""srma.datasets."""
