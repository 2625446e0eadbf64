"""The browser workspace (``srma serve``): a thin shell over the review library.

Pages and a JSON API under ``/api/`` read the review state replayed from the
append-only log (:func:`srma.review.state.load_state`), which enforces
blinding, and write through the same library functions as the CLI
(:func:`srma.review.screen.decisions.decide`, ``resolve``).  No statistics
and no blinding logic here.
"""
