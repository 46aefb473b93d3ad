"""What a command's failure means to the caller: the exit codes, and which errors are bad input.

Exit codes (contract section 2): 0 success; 2 invalid input (one message on stderr); 3 with
--check-slo when the SLO is not met.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_INVALID, EXIT_SLO = 0, 2, 3


class InputError(Exception):
    """Anything the user can fix; printed as one line, exit 2."""


# Exception types that mean bad input, by the module that defines them. Only modules already
# imported are looked at: a module never imported cannot have raised its error, and importing
# the fit just to recognise FitError would cost every command a second of start-up.
USER_ERRORS = (
    ("model.scenario.reader", "ScenarioError"),
    ("model.pricing.catalog", "UnknownInstanceError"),
    ("model.scenario.trace", "TraceError"),
    ("connectors.errors", "ConnectorError"),
    ("model.fit.file", "FitFileError"),
    ("model.fit.series", "FitError"),
    ("model.scenario.limits", "LimitError"),
)


def is_user_error(exc: Exception) -> bool:
    if isinstance(exc, InputError):
        return True
    for module, name in USER_ERRORS:
        kind = getattr(sys.modules.get(module), name, None)
        if isinstance(kind, type) and isinstance(exc, kind):
            return True
    return False
