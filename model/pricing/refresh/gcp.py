"""Refresh the GCP rows of `data/prices.csv` from the Cloud Billing Catalog API.

Run `python -m model.pricing.refresh.gcp` (or `python -m model.pricing.refresh --provider gcp`)
with application default credentials (`gcloud auth application-default login`), or with an
API key in HEADROOM_GCP_API_KEY: `CloudCatalogClient` accepts `client_options={"api_key": ...}`
and the Catalog API is readable with a plain key. Nothing else is needed: the catalog is public.

How a row is priced from the SKUs (a machine type from its series' Core and Ram SKUs, commitments,
the rows the catalog does not price) is `gcp_rates.py`; here the API is read and the CSV written,
only after every service has been read, so a failed refresh never leaves a half-refreshed file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any, Iterable

from model.pricing.catalog import PRICES_CSV
from model.pricing.refresh.gcp_rates import SERVICES, index_rates, refresh_gcp_rows
from model.pricing.refresh.rows import read_rows, write_rows

API_KEY_ENV = "HEADROOM_GCP_API_KEY"


class GcpCatalogError(RuntimeError):
    """The Catalog API could not be read; the message says why and what to do."""


def default_retry(timeout_s: float = 120.0, initial_s: float = 1.0) -> Any:
    """Retry what a busy or flaky endpoint answers (the generated client retries nothing on ListSkus)."""
    from google.api_core import exceptions, retry

    return retry.Retry(
        predicate=retry.if_exception_type(
            exceptions.ServiceUnavailable,
            exceptions.TooManyRequests,
            exceptions.DeadlineExceeded,
            exceptions.InternalServerError,
        ),
        initial=initial_s,
        maximum=30.0,
        multiplier=2.0,
        timeout=timeout_s,
    )


def fetch_skus(
    client: Any, services: Iterable[str], retry: Any = None, timeout: float = 60.0
) -> tuple[dict[str, list[Any]], list[str]]:
    """Every SKU of the services our rows use (pages followed), and the services not found."""
    from google.api_core import exceptions
    from google.auth import exceptions as auth_exceptions

    retry = retry if retry is not None else default_retry()
    try:
        names = {
            s.display_name: s.name
            for s in client.list_services(request={"page_size": 5000}, retry=retry, timeout=timeout)
        }
        found: dict[str, list[Any]] = {}
        missing: list[str] = []
        for service in services:
            name = names.get(SERVICES[service])
            if name is None:
                missing.append(SERVICES[service])
                continue
            found[service] = list(
                client.list_skus(
                    request={"parent": name, "currency_code": "USD", "page_size": 5000},
                    retry=retry,
                    timeout=timeout,
                )
            )
        return found, missing
    except exceptions.RetryError as exc:
        raise GcpCatalogError(
            f"the Cloud Billing Catalog API kept failing after retries ({exc.cause or exc}); try again later"
        ) from None
    except (exceptions.PermissionDenied, exceptions.Unauthenticated) as exc:
        status = exc.grpc_status_code.name if exc.grpc_status_code else exc.code.name
        raise GcpCatalogError(
            f"the Cloud Billing Catalog API refused the request ({status}: {exc.message}); "
            f"enable cloudbilling.googleapis.com for the credentials' project, or set {API_KEY_ENV} "
            "to an API key allowed to call it"
        ) from None
    except exceptions.GoogleAPICallError as exc:
        raise GcpCatalogError(f"the Cloud Billing Catalog API failed: {exc}") from None
    except auth_exceptions.GoogleAuthError as exc:
        raise GcpCatalogError(
            f"no usable Google credentials ({exc}); run `gcloud auth application-default login` "
            f"or set {API_KEY_ENV}"
        ) from None


def make_client() -> Any:
    """A CloudCatalogClient on the API key if one is set, else application default credentials."""
    from google.auth import exceptions as auth_exceptions
    from google.cloud import billing_v1

    key = os.environ.get(API_KEY_ENV)
    try:
        return billing_v1.CloudCatalogClient(client_options={"api_key": key} if key else None)
    except auth_exceptions.GoogleAuthError as exc:
        raise GcpCatalogError(
            f"no usable Google credentials ({exc}); run `gcloud auth application-default login` "
            f"or set {API_KEY_ENV}"
        ) from None


def run(catalog: Path, out: Path | None, client: Any = None, retry: Any = None) -> int:
    """Refresh `catalog` into `out` (default: in place); 0 on success, 2 on an API error."""
    fieldnames, rows = read_rows(catalog)
    services = sorted({r["service"] for r in rows if r["provider"] == "gcp" and r["service"] in SERVICES})
    try:
        client = client if client is not None else make_client()
        skus, missing = fetch_skus(client, services, retry=retry)
    except GcpCatalogError as exc:
        print(f"error: {exc}; {catalog} was not changed", file=sys.stderr)
        return 2
    rows, report = refresh_gcp_rows(rows, index_rates(skus), dt.date.today().isoformat())
    target = out or catalog
    write_rows(target, fieldnames, rows)
    for name in missing:
        print(f"the catalog has no service named {name!r}", file=sys.stderr)
    if report.kept:
        print(
            f"kept {len(report.kept)} GCP rows the catalog did not price:\n  " + "\n  ".join(report.kept),
            file=sys.stderr,
        )
    if report.commit_by_ratio:
        print(
            f"{len(report.commit_by_ratio)} rows have no commitment SKU; their 1yr/3yr keep the published CUD "
            f"ratio: {', '.join(report.commit_by_ratio)}",
            file=sys.stderr,
        )
    print(
        f"refreshed {len(report.refreshed)} GCP rows; wrote {len(rows)} rows to {target}; "
        "update data/PRICES.md with today's date",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None, client: Any = None, retry: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--catalog", type=Path, default=PRICES_CSV, help="CSV to read (default: the bundled one)"
    )
    parser.add_argument("--out", type=Path, default=None, help="CSV to write (default: overwrite --catalog)")
    args = parser.parse_args(argv)
    return run(args.catalog, args.out, client=client, retry=retry)


if __name__ == "__main__":
    sys.exit(main())
