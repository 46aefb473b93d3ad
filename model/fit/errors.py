"""The fit's one error type: input it cannot use, said as one line the user can act on."""

from __future__ import annotations


class FitError(ValueError):
    """Input the fit cannot use, as one line the user can act on (the CLI exits 2)."""
