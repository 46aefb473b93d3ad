"""A progress bar on stderr for anything that takes more than a second, only on a terminal."""

from __future__ import annotations

import sys
from typing import Callable


def progress_bar(enabled: bool) -> Callable[[float], None] | None:
    if not enabled or not sys.stderr.isatty():
        return None

    def show(fraction: float) -> None:
        bar = "#" * int(30 * fraction)
        sys.stderr.write(f"\r[{bar:<30}] {100 * fraction:3.0f}%")
        if fraction >= 1:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show
