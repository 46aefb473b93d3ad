"""Refresh the GCP rows of `data/prices.csv` from the Cloud Billing Catalog API.

Run `python -m model.pricing.refresh.gcp` (or `python -m model.pricing.refresh --provider gcp`)
with application default credentials (`gcloud auth application-default login`), or with an
API key in HEADROOM_GCP_API_KEY: `CloudCatalogClient` accepts `client_options={"api_key": ...}`
and the Catalog API is readable with a plain key. Nothing else is needed: the catalog is public.

Google does not price a machine type, it prices its parts: a per-vCPU-hour "Core" SKU and a
per-GiB-hour "Ram" SKU for each machine series, region and commitment. So each row is
re-priced as `vcpu x core + memory_gib x ram` from the sizes already in the CSV (the catalog
has no machine sizes). Cloud SQL (Enterprise, PostgreSQL, zonal) is priced the same way,
Memorystore for Redis per GiB-hour of its capacity tier (M1..M5 by size), and GKE Autopilot
per vCPU-hour and GiB-hour of pod requests. GCE commitments come from the resource-based
"Commitment v1" SKUs; Cloud SQL's from its dollar-based commitment SKU. Where the catalog has
no commitment SKU (Memorystore, Autopilot, or a missing one), the row's own commitment ratio
(the published CUD percentage) is applied to the new on-demand price, and that is reported.

A row the catalog does not price is kept exactly as it was and listed: a stale price that says
it is stale is better than a silently dropped or zeroed one. The CSV is written only after
every service has been read, so a failed refresh never leaves a half-refreshed file.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable

from model.pricing.catalog import PRICES_CSV
from model.pricing.refresh.rows import read_rows, write_rows

API_KEY_ENV = "HEADROOM_GCP_API_KEY"

# catalog `service` column -> the Billing Catalog service's display name
SERVICES = {
    "gce": "Compute Engine",
    "cloudsql": "Cloud SQL",
    "memorystore": "Cloud Memorystore for Redis",
    "gke-autopilot": "Kubernetes Engine",
}

# machine series (the type's prefix) -> the series token in the SKU descriptions. Exact
# tokens, so "N2 Custom", "Spot Preemptible N2" and "N2 Sole Tenancy" SKUs never match.
GCE_SERIES = {
    "e2": "E2",
    "n2": "N2",
    "n2d": "N2D AMD",
    "n4": "N4",
    "c3": "C3",
    "c3d": "C3D",
    "c4": "C4",
    "c2d": "C2D AMD",
    "t2a": "T2A Arm",
    "t2d": "T2D AMD",
}
_SERIES_OF_TOKEN = {token: series for series, token in GCE_SERIES.items()}

# Memorystore for Redis capacity tiers: the largest size (GB) each tier covers.
REDIS_TIERS = ((4, "M1"), (10, "M2"), (35, "M3"), (100, "M4"), (float("inf"), "M5"))

_GCE_ON_DEMAND = re.compile(r"(?P<token>.+?) (?:Instance )?(?P<part>Core|Ram) running in .+")
_GCE_COMMIT = re.compile(r"Commitment v1: (?P<token>.+?) (?P<part>Cpu|Ram) in .+ for (?P<years>[13]) Years?")
_SQL_ON_DEMAND = re.compile(r"Cloud SQL for PostgreSQL: Zonal - (?P<part>vCPU|RAM) in .+")
_SQL_COMMIT = re.compile(
    r"Commitment - dollar based v1: Cloud SQL database (?P<region>[-a-z0-9]+) "
    r"for (?P<years>[13]) years?",
    re.IGNORECASE,
)
_REDIS = re.compile(r"Redis Capacity (?P<tier>Basic|Standard) (?P<m>M[1-5]) .+")
_AUTOPILOT = re.compile(r"Autopilot Pod (?P<part>mCPU|Memory) Requests \((?P<region>[-a-z0-9]+)\)")

# Billing units a price may be quoted in -> factor to USD per hour (or per GiB-hour).
_DIRECT_UNITS = {"h": 1.0, "GiBy.h": 1.0}
_BASE_UNITS = {"s": 3600.0, "By.s": 3600.0 * 2**30}  # base unit -> base units per hour (GiB-hour)


class GcpCatalogError(RuntimeError):
    """The Catalog API could not be read; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Rate:
    """One SKU's price, normalised to USD per hour (per vCPU, GiB or instance)."""

    usd: float
    n_regions: int  # how many regions the SKU covers: the fewest is the most specific
    description: str


# (service, component, commitment, region): component is e.g. "n2:core", "vcpu", "basic:M1",
# "spend" (Cloud SQL's dollar-based commitment, whose `usd` is the share of on-demand paid).
RateKey = tuple[str, str, str, str]


@dataclasses.dataclass
class Report:
    """What a refresh did, for the user to check before committing the CSV."""

    refreshed: list[str] = dataclasses.field(default_factory=list)
    kept: list[str] = dataclasses.field(default_factory=list)  # "type region: reason"
    commit_by_ratio: list[str] = dataclasses.field(default_factory=list)  # on-demand new, CUD by ratio


def hourly_usd(sku: Any) -> float | None:
    """The SKU's last-tier unit price in USD per hour (or per GiB-hour), None if unusable.

    The last tier is the rate that applies at volume (earlier tiers can be free allowances).
    A price quoted in another unit is converted through the SKU's base unit.
    """
    if not sku.pricing_info or not sku.pricing_info[0].pricing_expression.tiered_rates:
        return None
    expr = sku.pricing_info[0].pricing_expression
    money = expr.tiered_rates[-1].unit_price
    if money.currency_code and money.currency_code != "USD":
        return None
    price = money.units + money.nanos / 1e9
    if expr.usage_unit in _DIRECT_UNITS:
        return price * _DIRECT_UNITS[expr.usage_unit]
    per_hour = _BASE_UNITS.get(expr.base_unit)
    if per_hour is None or expr.base_unit_conversion_factor <= 0:
        return None
    return price / expr.base_unit_conversion_factor * per_hour


def classify(service: str, sku: Any) -> Iterable[tuple[str, str, list[str]]]:
    """(component, commitment, regions) the SKU prices for our catalog, if any."""
    text = sku.description
    usage = sku.category.usage_type
    regions = list(sku.service_regions)
    if service == "gce":
        m = _GCE_ON_DEMAND.fullmatch(text)
        if m and usage == "OnDemand" and m["token"] in _SERIES_OF_TOKEN:
            yield (
                f"{_SERIES_OF_TOKEN[m['token']]}:{'core' if m['part'] == 'Core' else 'ram'}",
                "on_demand",
                regions,
            )
        m = _GCE_COMMIT.fullmatch(text)
        if m and m["token"] in _SERIES_OF_TOKEN and usage in ("", f"Commit{m['years']}Yr"):
            yield (
                f"{_SERIES_OF_TOKEN[m['token']]}:{'core' if m['part'] == 'Cpu' else 'ram'}",
                f"{m['years']}yr",
                regions,
            )
    elif service == "cloudsql":
        m = _SQL_ON_DEMAND.fullmatch(text)
        if m and usage == "OnDemand":
            yield "vcpu" if m["part"] == "vCPU" else "ram", "on_demand", regions
        m = _SQL_COMMIT.fullmatch(text)
        if m:
            yield "spend", f"{m['years']}yr", regions or [m["region"]]
    elif service == "memorystore":
        m = _REDIS.fullmatch(text)
        if m and usage == "OnDemand":
            yield f"{m['tier'].lower()}:{m['m']}", "on_demand", regions
    elif service == "gke-autopilot":
        m = _AUTOPILOT.fullmatch(text)
        if m and usage == "OnDemand":
            yield "vcpu" if m["part"] == "mCPU" else "ram", "on_demand", regions or [m["region"]]


def index_rates(skus_by_service: dict[str, Iterable[Any]]) -> dict[RateKey, Rate]:
    """The rates our rows need, keyed by service, component, commitment and region."""
    rates: dict[RateKey, Rate] = {}
    for service, skus in skus_by_service.items():
        for sku in skus:
            for component, commitment, regions in classify(service, sku):
                usd = hourly_usd(sku)
                if usd is None or usd <= 0:
                    continue
                if service == "gke-autopilot" and component == "vcpu":
                    usd *= 1000  # priced per mCPU-hour; the catalog row is per vCPU-hour
                if component == "spend":
                    usd *= 100  # priced per $0.01 of hourly on-demand spend committed
                rate = Rate(usd, len(regions), sku.description)
                for region in regions:
                    key = (service, component, commitment, region)
                    if key not in rates or rate.n_regions < rates[key].n_regions:
                        rates[key] = rate
    return rates


def _parts(row: dict) -> tuple[str, list[tuple[str, float]]] | str:
    """(service, [(component, quantity)]) whose rates sum to the row's price, or why not."""
    service, type_ = row["service"], row["type"]
    vcpu, gib = float(row["vcpu"]), float(row["memory_gib"])
    if service == "gce":
        series = type_.split("-")[0]
        if series not in GCE_SERIES:
            return f"no SKU mapping for machine series {series!r}"
        return service, [(f"{series}:core", vcpu), (f"{series}:ram", gib)]
    if service in ("cloudsql", "gke-autopilot"):
        return service, [(c, q) for c, q in (("vcpu", vcpu), ("ram", gib)) if q]
    if service == "memorystore":
        m = re.fullmatch(r"redis-(basic|standard)-\d+gb", type_)
        if not m:
            return "not a redis-{basic|standard}-<N>gb type"
        tier = next(t for top, t in REDIS_TIERS if gib <= top)
        return service, [(f"{m[1]}:{tier}", gib)]
    return f"service {service!r} is not in the Cloud Billing Catalog mapping"


def price_row(row: dict, rates: dict[RateKey, Rate]) -> tuple[dict[str, float], bool] | str:
    """({commitment: hourly price}, commitments_from_catalog) for one row, or why it can't be priced."""
    parts = _parts(row)
    if isinstance(parts, str):
        return parts
    service, components = parts
    region = row["region"]

    def total(commitment: str) -> float | None:
        found = [rates.get((service, c, commitment, region)) for c, _ in components]
        if not components or any(r is None for r in found):
            return None
        return sum(q * r.usd for (_, q), r in zip(components, found))

    on_demand = total("on_demand")
    if on_demand is None:
        missing = [c for c, _ in components if (service, c, "on_demand", region) not in rates]
        return f"no on-demand SKU for {', '.join(missing) or 'it'} in {region}"
    prices = {"on_demand": on_demand}
    for commitment in ("1yr", "3yr"):
        if service == "cloudsql":
            share = rates.get((service, "spend", commitment, region))
            prices[commitment] = on_demand * share.usd if share and 0 < share.usd < 1 else None
        else:
            prices[commitment] = total(commitment)
    if prices["1yr"] is not None and prices["3yr"] is not None:
        return prices, True
    # No commitment SKU: keep the row's published CUD percentage, applied to the new price.
    old = float(row["on_demand"])
    if old <= 0:
        return "no commitment SKU and no old on-demand price to take the commitment ratio from"
    return {
        "on_demand": on_demand,
        "1yr": on_demand * float(row["1yr"]) / old,
        "3yr": on_demand * float(row["3yr"]) / old,
    }, False


def refresh_gcp_rows(rows: list[dict], rates: dict[RateKey, Rate], as_of: str) -> tuple[list[dict], Report]:
    """Re-price the GCP rows the rates cover; every other row is returned unchanged."""
    report = Report()
    out: list[dict] = []
    basis = f"gcp billing catalog {as_of}"
    for row in rows:
        if row["provider"] != "gcp":
            out.append(row)
            continue
        label = f"{row['service']} {row['type']} {row['region']}"
        priced = price_row(row, rates)
        if isinstance(priced, str):
            report.kept.append(f"{label}: {priced}")
            out.append(row)
            continue
        prices, from_catalog = priced
        if not from_catalog:
            report.commit_by_ratio.append(label)
        report.refreshed.append(label)
        out.append(
            row
            | {c: round(p, 7) for c, p in prices.items()}
            | {
                "on_demand_basis": basis,
                "commit_basis": basis if from_catalog else row["commit_basis"],
                "as_of": as_of,
            }
        )
    return out, report


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
