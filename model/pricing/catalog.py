"""The bundled price catalog: what one instance, or one pod's vCPU and GiB, costs per hour.

Prices live in `data/prices.csv` (source, date and refresh in `data/PRICES.md`) so that a
cost is reproducible offline and a reviewer can see every number. This module only reads
that file; it is loaded once per process because every simulation prices the same rows.
An unknown type is an error naming the closest known ones, never a silent default: a
plausible wrong price is worse than no price.
"""

from __future__ import annotations

import csv
import difflib
import functools
from dataclasses import dataclass, field
from pathlib import Path

from model.scenario.schema import Instance, Pricing

PRICES_CSV = Path(__file__).resolve().parents[2] / "data" / "prices.csv"
COMMITMENTS = ("on_demand", "1yr", "3yr")
PROVIDERS = ("aws", "gcp")

# Per-unit rows that price pods ({vcpu, memory_gib}) rather than whole instances.
POD_RATE_TYPES = {
    ("aws", "x86_64"): ("fargate-vcpu", "fargate-gib"),
    ("aws", "arm64"): ("fargate-arm-vcpu", "fargate-arm-gib"),
    ("gcp", "x86_64"): ("autopilot-vcpu", "autopilot-gib"),
}

# The catalog region used when a node's provider differs from `pricing.provider`, so an
# `aws` region means nothing to it: the same geography in the other provider.
_GEOGRAPHY = {
    "us-east-1": "us",
    "us-central1": "us",
    "eu-west-1": "eu",
    "europe-west1": "eu",
    "europe-west4": "eu",
}
_HOME_REGION = {
    ("aws", "us"): "us-east-1",
    ("aws", "eu"): "eu-west-1",
    ("gcp", "us"): "us-central1",
    ("gcp", "eu"): "europe-west1",
}


class UnknownInstanceError(ValueError):
    """A provider, type or region the catalog has no price for; the message says what it has."""


class UnlistedTypeError(UnknownInstanceError):
    """The provider lists no type of that name at all (not a region or provider mix-up): a
    node that does not need its vCPUs from here is still simulated, and its price is estimated
    from its family's listed sizes or unknown (model/pricing/estimate.py)."""


@dataclass(frozen=True)
class InstanceSpec:
    """One priced row: a machine type (or a pod unit) in one region."""

    provider: str
    service: str
    type: str
    region: str
    vcpu: float
    memory_gib: float
    arch: str
    family: str
    hourly: dict[str, float] = field(hash=False)  # commitment -> price per unit-hour
    currency: str = "USD"
    unit: str = "instance-hour"  # or vcpu-hour / gib-hour for pod rates
    on_demand_basis: str = "list"  # list | regional_estimate (see data/PRICES.md)
    commit_basis: str = "published"  # published | discount_rate | family_ratio | not_offered
    as_of: str = ""


@dataclass(frozen=True)
class Catalog:
    """All rows, indexed by (provider, type, region)."""

    rows: dict[tuple[str, str, str], InstanceSpec]

    def types(self, provider: str, unit: str = "instance-hour") -> list[str]:
        """Machine types (or, with another unit, pod-rate rows) the provider has."""
        return sorted({t for (p, t, _r), s in self.rows.items() if p == provider and s.unit == unit})

    def regions(self, provider: str, type_: str | None = None) -> list[str]:
        return list(self._index[0].get((provider, type_), ()))

    def provider_of(self, type_: str) -> list[str]:
        return list(self._index[1].get(type_, ()))

    @functools.cached_property
    def _index(self) -> tuple[dict[tuple[str, str | None], list[str]], dict[str, list[str]]]:
        """Sorted regions by (provider, type or None) and providers by type, built once: a node's vCPUs
        come from its type's row on every solve, and scanning every row each time showed in `diff`."""
        regions: dict[tuple[str, str | None], set[str]] = {}
        providers: dict[str, set[str]] = {}
        for p, t, r in self.rows:
            regions.setdefault((p, t), set()).add(r)
            regions.setdefault((p, None), set()).add(r)
            providers.setdefault(t, set()).add(p)
        return {k: sorted(v) for k, v in regions.items()}, {k: sorted(v) for k, v in providers.items()}


def read_catalog(path: Path) -> Catalog:
    """Parse a prices CSV; separate from `load_catalog` so tests and the refresh can read other files."""
    rows: dict[tuple[str, str, str], InstanceSpec] = {}
    with open(path, newline="") as fh:
        for rec in csv.DictReader(fh):
            spec = InstanceSpec(
                provider=rec["provider"],
                service=rec["service"],
                type=rec["type"],
                region=rec["region"],
                vcpu=float(rec["vcpu"]),
                memory_gib=float(rec["memory_gib"]),
                arch=rec["arch"],
                family=rec["family"],
                hourly={c: float(rec[c]) for c in COMMITMENTS},
                currency=rec["currency"],
                unit=rec["unit"],
                on_demand_basis=rec["on_demand_basis"],
                commit_basis=rec["commit_basis"],
                as_of=rec["as_of"],
            )
            key = (spec.provider, spec.type, spec.region)
            if key in rows:
                raise ValueError(f"{path}: duplicate price row for {key}")
            rows[key] = spec
    return Catalog(rows)


@functools.cache
def load_catalog() -> Catalog:
    """The bundled catalog, read once per process."""
    return read_catalog(PRICES_CSV)


def _closest(word: str, candidates: list[str], n: int = 3) -> list[str]:
    close = difflib.get_close_matches(word, candidates, n=n, cutoff=0.6)
    return close or difflib.get_close_matches(word, candidates, n=n, cutoff=0.3)


def lookup(provider: str, type_: str, region: str, catalog: Catalog | None = None) -> InstanceSpec:
    """The row for one machine type in one region, or an error that says what would work."""
    catalog = catalog or load_catalog()
    if provider not in PROVIDERS:
        raise UnknownInstanceError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    spec = catalog.rows.get((provider, type_, region))
    if spec is not None and spec.unit == "instance-hour":
        return spec
    instance_types = catalog.types(provider)
    if type_ in instance_types:
        raise UnknownInstanceError(
            f"{provider} {type_!r} has no price in region {region!r}; "
            f"it is priced in: {', '.join(catalog.regions(provider, type_))}"
        )
    message = f"unknown {provider} instance type {type_!r}"
    if type_ in catalog.types(provider, "vcpu-hour") + catalog.types(provider, "gib-hour"):
        raise UnknownInstanceError(
            f"{message}: it is a per-unit pod rate; give instance: {{vcpu: ..., memory_gib: ...}}"
        )
    elsewhere = [p for p in catalog.provider_of(type_) if p != provider]
    if elsewhere:
        raise UnknownInstanceError(
            f"{message}: it is a {elsewhere[0]} type; set instance.provider: {elsewhere[0]}"
        )
    close = _closest(type_, instance_types)
    if close:
        raise UnlistedTypeError(f"{message}; closest known: {', '.join(close)}")
    for other in PROVIDERS:
        close = _closest(type_, catalog.types(other)) if other != provider else []
        if close:
            raise UnlistedTypeError(f"{message}; closest known {other} types: {', '.join(close)}")
    raise UnlistedTypeError(f"{message}; known types are listed in data/{PRICES_CSV.name}")


def resolve_region(provider: str, region: str, catalog: Catalog | None = None) -> str:
    """The catalog region to price `provider` in, given the scenario's `pricing.region`.

    A node may run on another provider than `pricing.provider` (say a GCP Memorystore in an
    AWS-priced scenario); `us-east-1` means nothing to GCP, so it is priced in the same
    geography's catalog region instead. A region the provider has is used as is.
    """
    catalog = catalog or load_catalog()
    if region in catalog.regions(provider):
        return region
    home = _HOME_REGION.get((provider, _GEOGRAPHY.get(region, "")))
    if home is None:
        raise UnknownInstanceError(
            f"no {provider} prices for region {region!r}; known regions: {', '.join(catalog.regions(provider))}"
        )
    return home


def instance_vcpus(instance: Instance | None) -> float | None:
    """vCPUs of a node's instance: the pod's `vcpu`, or the catalog's count for the type.

    None when there is no instance or the type is unknown: the engine then uses its default.
    The loader refuses an unknown type on a node whose servers would come from here (a
    service or database without `cpus`) with its key path (`validate_prices`).
    The vCPU count of a type does not depend on the region, so any region's row answers.
    """
    if instance is None:
        return None
    if instance.vcpu is not None:
        return instance.vcpu
    catalog = load_catalog()
    providers = [instance.provider] if instance.provider else catalog.provider_of(instance.type)
    for provider in providers:
        regions = catalog.regions(provider, instance.type)
        if regions and catalog.rows[(provider, instance.type, regions[0])].unit == "instance-hour":
            return catalog.rows[(provider, instance.type, regions[0])].vcpu
    return None


def pod_rates(
    provider: str, region: str, arch: str = "x86_64", catalog: Catalog | None = None
) -> tuple[InstanceSpec, InstanceSpec]:
    """The per-vCPU-hour and per-GiB-hour rows (Fargate on AWS, GKE Autopilot on GCP)."""
    catalog = catalog or load_catalog()
    names = POD_RATE_TYPES.get((provider, arch))
    if names is None:
        raise UnknownInstanceError(f"no {arch} pod pricing for {provider}")
    region = resolve_region(provider, region, catalog)
    try:
        return catalog.rows[(provider, names[0], region)], catalog.rows[(provider, names[1], region)]
    except KeyError:
        raise UnknownInstanceError(
            f"no {provider} pod pricing in {region!r}; known: {', '.join(catalog.regions(provider, names[0]))}"
        ) from None


def price_spec(instance: Instance, pricing: Pricing) -> InstanceSpec:
    """The catalog row a typed instance is priced from (its own provider, else the scenario's)."""
    provider = instance.provider or pricing.provider
    return lookup(provider, instance.type, resolve_region(provider, pricing.region))


def hourly_price(instance: Instance, pricing: Pricing) -> float:
    """Price of one unit (instance, or pod of vcpu + memory_gib) for one hour at the commitment."""
    if instance.type is not None:
        return price_spec(instance, pricing).hourly[pricing.commitment]
    provider = instance.provider or pricing.provider
    per_vcpu, per_gib = pod_rates(provider, pricing.region)
    return (
        instance.vcpu * per_vcpu.hourly[pricing.commitment]
        + instance.memory_gib * per_gib.hourly[pricing.commitment]
    )
