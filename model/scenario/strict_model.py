"""What every scenario model is built on: strict, frozen pydantic models, and the error a validator
raises tied to the key path that causes it (so the reader can point at the file's line).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class GraphError(ValueError):
    """A graph-level problem, tied to the key path that causes it."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path
        self.message = message
