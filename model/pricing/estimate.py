"""A price for an instance type the catalog lacks: scaled from its own family's sizes.

Latency never waits on the catalog (a node's `cpus` says how it serves), so a type the
catalog does not list must not stop an answer. Its cost is the next best thing a person
would do by hand: take the same family's nearest listed sizes in the same region and scale
their price by size (`cache.t4g.small` is half a `cache.t4g.medium`). Providers price a
family linearly in its size units, so this is usually within a few percent; it is still an
estimate and is always reported as one. With no listed size of the family, the price is
unknown: None, never a guess from another family.

Size units, by naming scheme:
- AWS `[prefix.]family.size` (`t3.micro`, `db.t4g.small`, `cache.t3.medium`): nano 1/16,
  micro 1/8, small 1/4, medium 1/2, large 1, xlarge 2, Nxlarge 2N (the ladder AWS prices by).
- GCP `series-class-N` (`e2-standard-16`, `n2-highmem-8`): N vCPUs (memory follows N).
- GCP `redis-tier-Ngb`: N GB. GCP `db-custom-V-MiB`: the mean of the vCPU and memory ratios.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from model.pricing.catalog import (
    COMMITMENTS,
    Catalog,
    InstanceSpec,
    UnlistedTypeError,
    hourly_price,
    load_catalog,
    resolve_region,
)
from model.scenario.schema import Instance, Pricing

_AWS_LADDER = {"nano": 1 / 16, "micro": 1 / 8, "small": 1 / 4, "medium": 1 / 2, "large": 1.0, "xlarge": 2.0}


@dataclass(frozen=True)
class Size:
    family: str  # what siblings share: "cache.t4g", "e2-standard", "db-custom"
    units: float  # relative size within the family
    memory_units: float | None = None  # db-custom only: memory, scaled separately from vCPUs


@dataclass(frozen=True)
class PriceEstimate:
    """An unlisted type's hourly price per commitment, and the listed sizes it was scaled from."""

    type: str
    hourly: dict[str, float]
    from_types: tuple[str, ...]
    factors: tuple[float, ...]  # the unlisted size over each listed one

    def to_json(self, commitment: str) -> dict:
        return {
            "type": self.type,
            "from": list(self.from_types),
            "scale": [round(f, 4) for f in self.factors],
            "hourly": round(self.hourly[commitment], 6),
        }


def parse_size(type_: str) -> Size | None:
    """The family and relative size a type's name encodes, or None for a name we cannot read."""
    gcp_custom = re.fullmatch(r"(db-custom)-(\d+)-(\d+)", type_)
    if gcp_custom:
        return Size(gcp_custom[1], float(gcp_custom[2]), float(gcp_custom[3]))
    redis = re.fullmatch(r"(redis-[a-z]+)-(\d+)gb", type_)
    if redis:
        return Size(redis[1], float(redis[2]))
    gcp = re.fullmatch(r"([a-z0-9]+-[a-z]+)-(\d+)", type_)
    if gcp:
        return Size(gcp[1], float(gcp[2]))
    family, dot, size = type_.rpartition(".")
    if not dot or not family:
        return None
    if size in _AWS_LADDER:
        return Size(family, _AWS_LADDER[size])
    many = re.fullmatch(r"(\d+)xlarge", size)
    if many:
        return Size(family, 2.0 * int(many[1]))
    return None


def _factor(want: Size, have: Size) -> float:
    if want.memory_units is not None and have.memory_units:
        return (want.units / have.units + want.memory_units / have.memory_units) / 2.0
    return want.units / have.units


def estimate(catalog: Catalog, provider: str, type_: str, region: str) -> PriceEstimate | None:
    """The price of `type_` scaled from the nearest listed sizes of its family (one below and
    one above, averaged, where both exist), or None when the family has no listed size here."""
    want = parse_size(type_)
    if want is None:
        return None
    siblings: list[tuple[Size, InstanceSpec]] = []
    for (p, t, r), spec in catalog.rows.items():
        if p == provider and r == region and spec.unit == "instance-hour" and t != type_:
            have = parse_size(t)
            if have is not None and have.family == want.family and have.units > 0:
                siblings.append((have, spec))
    if not siblings:
        return None

    def distance(item: tuple[Size, InstanceSpec]) -> float:
        return abs(math.log(_factor(want, item[0])))

    below = [s for s in siblings if _factor(want, s[0]) >= 1.0]
    above = [s for s in siblings if _factor(want, s[0]) < 1.0]
    nearest = [min(group, key=distance) for group in (below, above) if group]
    factors = tuple(_factor(want, size) for size, _spec in nearest)
    hourly = {
        c: sum(spec.hourly[c] * f for (_size, spec), f in zip(nearest, factors)) / len(nearest)
        for c in COMMITMENTS
    }
    return PriceEstimate(type_, hourly, tuple(spec.type for _size, spec in nearest), factors)


@dataclass(frozen=True)
class UnitPrice:
    """What one unit of a node costs an hour: listed, estimated (`estimate` says from what), or
    unknown (`hourly` None)."""

    hourly: float | None
    estimate: PriceEstimate | None = None
    unknown_because: str = ""  # the catalog's message (with the closest listed types) when unknown


def unit_price(instance: Instance, pricing: Pricing) -> UnitPrice:
    """The catalog's price, else an estimate from the type's family, else unknown. Mistakes
    that are not a missing type (a region without prices, a type of the other provider) still
    raise, as the loader reports them."""
    try:
        return UnitPrice(hourly_price(instance, pricing))
    except UnlistedTypeError as err:
        provider = instance.provider or pricing.provider
        guess = estimate(load_catalog(), provider, instance.type, resolve_region(provider, pricing.region))
        if guess is None:
            return UnitPrice(None, None, str(err))
        return UnitPrice(guess.hourly[pricing.commitment], guess)
