"""srma: systematic reviews and meta-analyses, from search export to report."""

from srma.errors import InputError, SrmaWarning

__version__ = "0.1.0"

__all__ = ["InputError", "SrmaWarning", "__version__"]
