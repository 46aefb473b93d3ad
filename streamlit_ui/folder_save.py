"""Saving a scenario "To folder": a new file in the server's scenarios folder, never a replaced one.

The folder is shared by every visitor and read by the CLI (`fit --source demo` reads
scenarios/fit-demo.yaml), so a save must not replace anything: the text goes to a unique
temporary file first, then is hard-linked under its final name, which fails if the name
is taken (no window in which two saves both "win", and no torn file if the server dies).
Names are capped at `MAX_NAME_CHARS`, the folder at `MAX_FOLDER_FILES` scenario files, and
the whole feature is off when HEADROOM_SAVE_TO_FOLDER is `0` (a shared deployment whose
folder is read-only to visitors). Plain functions: no Streamlit here.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

SAVE_ENV = "HEADROOM_SAVE_TO_FOLDER"  # "0", "false", "off" or "no" turns "To folder" off
MAX_NAME_CHARS = 64
MAX_FOLDER_FILES = 200


class SaveRefused(ValueError):
    """A save that did not happen, with the sentence to show."""


def enabled() -> bool:
    return os.environ.get(SAVE_ENV, "1").strip().lower() not in ("0", "false", "off", "no")


def save_new(folder: Path, name: str, text: str) -> Path:
    """Write `folder/NAME.yaml` atomically, only if no such file exists; SaveRefused otherwise."""
    if not enabled():
        raise SaveRefused(
            f"Saving to the scenarios folder is turned off on this server ({SAVE_ENV}=0); "
            "use Download YAML instead."
        )
    if len(name) > MAX_NAME_CHARS:
        raise SaveRefused(f"That name is {len(name)} characters long; use at most {MAX_NAME_CHARS}.")
    if not re.fullmatch(r"[a-z0-9][a-z0-9\-]*", name):
        raise SaveRefused("Use letters, digits and dashes for the name.")
    try:
        count = sum(1 for _ in folder.glob("*.yaml"))
    except OSError:
        count = 0
    if count >= MAX_FOLDER_FILES:
        raise SaveRefused(
            f"The scenarios folder already holds {count} files (the limit is {MAX_FOLDER_FILES}); "
            "use Download YAML, or ask the operator to tidy the folder."
        )
    path = folder / f"{name}.yaml"
    if path.exists():
        raise SaveRefused(
            f"scenarios/{name}.yaml already exists and is never replaced from the app; choose another name."
        )
    temp = None
    try:
        descriptor, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)  # fails if the name was taken meanwhile: never replaces a file
    except FileExistsError:
        raise SaveRefused(
            f"scenarios/{name}.yaml already exists and is never replaced from the app; choose another name."
        ) from None
    except OSError as exc:
        raise SaveRefused(
            f"Could not write to the scenarios folder ({exc.strerror or exc.__class__.__name__}); "
            "use Download YAML instead."
        ) from None
    finally:
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass
    return path
