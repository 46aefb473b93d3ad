"""Two costs behind one CPU series: reads and writes, or a request and its cache misses.

A node's CPU is U = U0 + a * x1 + b * x2 when two kinds of work load it (a database's reads and
writes; a service's requests and the cache misses it has to fill). One regression on both
rates tells a and b apart only when the two rates do not move in lockstep: the mix has to
vary between periods, as it does when the hit ratio or the write share changes between phases
of a load test or over a day. When it does not, no data can separate them, and the fit says
what it assumed instead of advising what cannot be followed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.fit.demand import Robust, with_background

MAX_CORRELATION = 0.97  # above this the two rates move together: their costs trade off against each other
MIN_POINTS = 24


def separate(first: pd.Series, second: pd.Series, busy: pd.Series) -> tuple[Robust, int] | str:
    """Busy fraction on both rates (coef: background, first's cost, second's), or why they cannot be told apart."""
    both = pd.concat([first.rename("a"), second.rename("b"), busy.rename("y")], axis=1).dropna()
    if len(both) < MIN_POINTS:
        return f"only {len(both)} periods have both rates and the CPU (it needs {MIN_POINTS})"
    a, b = both["a"].to_numpy(), both["b"].to_numpy()
    if np.std(a) == 0 or np.std(b) == 0:
        return "one of the two rates never changes"
    share = b / np.maximum(a + b, 1e-12)
    corr = float(np.corrcoef(a, b)[0, 1])
    if not np.isfinite(corr) or abs(corr) > MAX_CORRELATION or np.std(share) < 0.01:
        return (
            f"their mix stayed the same in every period (correlation {corr:.3f}; the second's share varied by "
            f"{100 * np.std(share):.1f} points)"
        )
    return with_background(np.column_stack([np.ones(len(both)), a, b]), both["y"].to_numpy()), len(both)
