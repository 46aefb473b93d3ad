"""Where Observe's cloud clients connect: the server decides, never the browser.

A CloudWatch or Cloud Monitoring client signs its requests with the server's credentials,
so an endpoint typed by a visitor would send those signatures (and the AWS session token)
to any host. The endpoint therefore comes from the server's environment
(HEADROOM_CLOUDWATCH_ENDPOINT, HEADROOM_GCP_ENDPOINT, PROMETHEUS_URL; boto3's own
AWS_ENDPOINT_URL is honoured by the connector too). For demos and tests against a local moto server or gRPC
fake, HEADROOM_ALLOW_LOOPBACK_ENDPOINT=1 lets the page take a typed endpoint, but only one
on this machine's loopback interface.
"""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

# Prometheus: its client sends the server's PROMETHEUS_BEARER_TOKEN (or basic auth) with every query.
ENDPOINT_ENV = {
    "cloudwatch": "HEADROOM_CLOUDWATCH_ENDPOINT",
    "gcp": "HEADROOM_GCP_ENDPOINT",
    "prometheus": "PROMETHEUS_URL",
}
REMOTE_SOURCES = tuple(ENDPOINT_ENV)  # sources whose client connects somewhere with the server's credentials
LOOPBACK_ENV = "HEADROOM_ALLOW_LOOPBACK_ENDPOINT"
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
PROJECT = re.compile(r"[a-z][a-z0-9\-]{4,61}[a-z0-9]")


class EndpointRefused(ValueError):
    """A typed endpoint (or region, project) the server will not connect to."""


def configured(source: str) -> str:
    """The endpoint the server's operator set for `source`, or ""."""
    return os.environ.get(ENDPOINT_ENV.get(source, ""), "").strip() if source in ENDPOINT_ENV else ""


def loopback_allowed() -> bool:
    return os.environ.get(LOOPBACK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def loopback(typed: str) -> str:
    """A typed endpoint when it points at this machine's loopback interface, else EndpointRefused."""
    typed = typed.strip()
    if not typed:
        return ""
    if not loopback_allowed():
        raise EndpointRefused("this server takes its endpoint from its own configuration, not from the page.")
    host = urlsplit(typed if "://" in typed else f"//{typed}").hostname or ""
    try:
        is_loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        is_loopback = False
    if not is_loopback:
        raise EndpointRefused(
            f"only a loopback endpoint (127.0.0.1, ::1, localhost) may be typed here, not {typed[:80]!r}."
        )
    return typed


def check_region(region: str) -> str:
    region = region.strip()
    if region and not REGION.fullmatch(region):
        raise EndpointRefused(f"{region[:40]!r} is not an AWS region name (like us-east-1).")
    return region


def check_project(project: str) -> str:
    project = project.strip()
    if project and not PROJECT.fullmatch(project):
        raise EndpointRefused(
            f"{project[:40]!r} is not a GCP project id (6-63 lowercase letters, digits, dashes)."
        )
    return project
