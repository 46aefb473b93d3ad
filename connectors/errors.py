"""The one error type a connector lets out.

Users meet these when their cloud account, file or network misbehaves, so a message says
what went wrong and what to do next, in one or two sentences. Library exceptions (botocore,
grpc, pandas) are translated at the connector's edge and never escape as tracebacks.
"""

from __future__ import annotations


class ConnectorError(RuntimeError):
    """A metric source failed in a way the user can act on.

    `message` says what happened; `hint` what to do next (may be empty). `str()` joins them.
    """

    def __init__(self, message: str, hint: str = "", *, source: str = ""):
        self.message, self.hint, self.source = message, hint, source
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + message + (f" {hint}" if hint else ""))
