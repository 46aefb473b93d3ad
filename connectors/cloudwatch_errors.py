"""botocore's exceptions, translated into what the user should do next.

Kept apart from the source so the mapping can be read (and tested) in one place. Messages
never include credentials: only error codes, the profile name and the endpoint.
"""

from __future__ import annotations

from botocore import exceptions as bx

from connectors.errors import ConnectorError

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_REJECTED = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "InvalidAccessKeyId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
_INVALID = {
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "ValidationError",
    "InvalidNextToken",
    "MissingParameter",
    "InvalidParameterValueException",
}

REFRESH = (
    "Refresh them and run again: `aws sso login` (add --profile NAME if you use one), "
    "or get a new session token / assume the role again and export it."
)
SRC = "cloudwatch"


def translate(exc: Exception, operation: str, endpoint: str = "") -> ConnectorError:
    """One ConnectorError for any botocore failure."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return ConnectorError(
            "no AWS credentials were found.",
            "Use the standard chain: `aws configure`, `aws sso login`, AWS_PROFILE, an instance role, "
            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment.",
            source=SRC,
        )
    if isinstance(exc, (bx.TokenRetrievalError, bx.UnauthorizedSSOTokenError, bx.SSOTokenLoadError)):
        return ConnectorError("the AWS SSO session has expired or was never started.", REFRESH, source=SRC)
    if isinstance(exc, bx.ProfileNotFound):
        return ConnectorError(f"{exc}.", "Check AWS_PROFILE and ~/.aws/config.", source=SRC)
    if isinstance(
        exc,
        (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError, bx.ConnectionClosedError),
    ):
        return ConnectorError(
            f"cannot reach CloudWatch{' at ' + endpoint if endpoint else ''} ({exc.__class__.__name__}).",
            "Check the network, the region, and AWS_ENDPOINT_URL if it is set.",
            source=SRC,
        )
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Unknown"), _clean(error.get("Message", ""))
        retries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if code in _EXPIRED:
            return ConnectorError(f"the AWS credentials have expired ({code}).", REFRESH, source=SRC)
        if code in _REJECTED:
            return ConnectorError(
                f"AWS rejected the credentials ({code}).",
                "Check which credentials the chain picks (`aws sts get-caller-identity`). " + REFRESH,
                source=SRC,
            )
        if code == "403" or (
            code not in _DENIED and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403
        ):
            # an error body the protocol parser could not read (e.g. an XML auth error on the JSON protocol)
            return ConnectorError(
                "AWS refused the request (HTTP 403): the credentials are invalid, expired, "
                "or may not read CloudWatch.",
                "Check which credentials the chain picks (`aws sts get-caller-identity`). " + REFRESH,
                source=SRC,
            )
        if code in _DENIED:
            return ConnectorError(
                f"the credentials may not call cloudwatch:{operation} ({code}).",
                f"Grant cloudwatch:{operation} (the CloudWatchReadOnlyAccess policy has it).",
                source=SRC,
            )
        if code in _THROTTLED:
            return ConnectorError(
                f"CloudWatch throttled {operation} and it still failed after {retries} retries.",
                "Wait a minute and run again (cached series are not pulled twice), "
                "or pull fewer series at once.",
                source=SRC,
            )
        if code in _INVALID:
            return ConnectorError(
                f"CloudWatch refused {operation}: {message} ({code}).",
                "Check the metric names, dimensions, stat and period in the fit file.",
                source=SRC,
            )
        return ConnectorError(
            f"CloudWatch failed {operation}: {code} {message}".rstrip() + f" (after {retries} retries).",
            "Try again later; if it persists, check the AWS Health Dashboard.",
            source=SRC,
        )
    if isinstance(exc, bx.BotoCoreError):
        return ConnectorError(f"the AWS SDK failed: {exc}.", source=SRC)
    return ConnectorError(f"unexpected failure in {operation}: {exc.__class__.__name__}: {exc}", source=SRC)


def _clean(message: str) -> str:
    """A server's message on one short line; an HTML error page says nothing useful."""
    if message.lstrip().startswith("<"):
        return ""
    return " ".join(message.split())[:300]
