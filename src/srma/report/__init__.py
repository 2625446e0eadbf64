"""srma.report: written outputs assembled from result objects."""
