"""srma.stats."""
