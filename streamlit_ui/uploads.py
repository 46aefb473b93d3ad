"""Where Observe keeps an uploaded metrics CSV: a folder per session, removed with the session.

The CSV source reads files from a folder, so an upload is written to one. The folder is
held by an object in the session's state: when Streamlit drops a closed session, the object
is collected and its finalizer deletes the folder. A server that was killed runs no
finalizer, so folders untouched for `MAX_AGE_S` are removed the next time anyone uploads.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from pathlib import Path

PREFIX = "headroom-csv-"
MAX_AGE_S = 6 * 3600


class UploadFolder:
    """A temporary folder that is deleted when this object is (the session's end) or at interpreter exit."""

    def __init__(self):
        prune_stale()
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), ignore_errors=True)

    def write(self, name: str, data: bytes) -> Path:
        """Keep only this upload in the folder (a session sees one CSV at a time)."""
        for old in self.path.iterdir():
            old.unlink(missing_ok=True)
        target = self.path / Path(name).name
        target.write_bytes(data)
        return target

    def remove(self) -> None:
        self._finalizer()


def prune_stale(max_age_s: float = MAX_AGE_S, root: Path | None = None) -> int:
    """Delete upload folders nobody touched for `max_age_s` (left by a server that was killed)."""
    removed = 0
    now = time.time()
    for folder in (root or Path(tempfile.gettempdir())).glob(f"{PREFIX}*"):
        try:
            newest = max([folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.iterdir()])
        except OSError:
            continue
        if now - newest > max_age_s:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
