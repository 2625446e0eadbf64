"""srma.analysis: user-facing analyses with validated input and immutable results."""
