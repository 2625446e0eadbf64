"""Network meta-analysis numerics (layer 1): contrast-level data of a network of
treatments, and the models, tests and rankings computed from it."""
