"""GCP catalog rows priced from Cloud Billing Catalog SKUs (model/pricing/refresh/gcp.py reads them).

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
it is stale is better than a silently dropped or zeroed one.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterable

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
