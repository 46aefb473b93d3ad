"""The bundled price catalog: values match their sources, lookups fail helpfully, pods price per unit."""

from __future__ import annotations

import re

import pytest

from model.pricing.catalog import (
    COMMITMENTS,
    UnknownInstanceError,
    hourly_price,
    instance_vcpus,
    load_catalog,
    lookup,
    read_catalog,
)
from model.scenario.schema import Instance, Pricing

# Spot checks against the sources named in data/PRICES.md. The EC2 and GCE on-demand values
# are the providers' list prices; the db.m6g / cache.m6g reserved values are published RI
# prices (Vantage's capture of the AWS price list). A refresh that changes them should
# change this table with the new as-of date.
SPOT_CHECKS = [
    ("aws", "m6i.large", "us-east-1", "on_demand", 0.096),
    ("aws", "m6i.xlarge", "us-east-1", "on_demand", 0.192),
    ("aws", "m6i.large", "eu-west-1", "on_demand", 0.107),
    ("aws", "m7g.large", "us-east-1", "on_demand", 0.0816),
    ("aws", "c7g.large", "us-east-1", "on_demand", 0.0725),
    ("aws", "c6i.xlarge", "us-east-1", "on_demand", 0.17),
    ("aws", "r6g.large", "us-east-1", "on_demand", 0.1008),
    ("aws", "r6i.large", "us-east-1", "on_demand", 0.126),
    ("aws", "t3.medium", "us-east-1", "on_demand", 0.0416),
    ("aws", "db.m6g.large", "us-east-1", "on_demand", 0.159),
    ("aws", "db.m6g.large", "us-east-1", "1yr", 0.1018),
    ("aws", "db.m6g.xlarge", "us-east-1", "1yr", 0.2037),
    ("aws", "cache.m6g.large", "us-east-1", "on_demand", 0.149),
    ("aws", "cache.m6g.large", "us-east-1", "1yr", 0.102),
    ("aws", "cache.m6g.large", "us-east-1", "3yr", 0.077),
    ("aws", "aurora.db.r6g.large", "us-east-1", "on_demand", 0.26),
    ("gcp", "n2-standard-2", "us-central1", "on_demand", 0.097118),
    ("gcp", "e2-standard-4", "us-central1", "on_demand", 0.134012),
    ("gcp", "n2d-standard-2", "us-central1", "on_demand", 0.084492),
]


@pytest.mark.parametrize("provider, type_, region, commitment, expected", SPOT_CHECKS)
def test_spot_prices_match_their_source(provider, type_, region, commitment, expected):
    assert lookup(provider, type_, region).hourly[commitment] == pytest.approx(expected, abs=5e-6)


REQUIRED = {
    ("aws", ("us-east-1", "eu-west-1")): [
        "m6i.large",
        "m6i.xlarge",
        "m6i.2xlarge",
        "m7g.large",
        "m7g.xlarge",
        "m7g.2xlarge",
        "c6i.large",
        "c6i.xlarge",
        "c6i.2xlarge",
        "c7g.large",
        "c7g.xlarge",
        "c7g.2xlarge",
        "r6i.large",
        "r6i.xlarge",
        "r6i.2xlarge",
        "r6g.large",
        "r6g.xlarge",
        "r6g.2xlarge",
        "t3.medium",
        "t3.large",
        "db.r6g.large",
        "db.r6g.xlarge",
        "db.r6g.2xlarge",
        "db.m6g.large",
        "db.m6g.xlarge",
        "db.r6i.large",
        "db.r6i.xlarge",
        "db.t4g.medium",
        "aurora.db.r6g.large",
        "cache.r6g.large",
        "cache.r6g.xlarge",
        "cache.m6g.large",
        "cache.t4g.medium",
        "kafka.m5.large",
        "kafka.m5.xlarge",
        "kafka.m5.2xlarge",
        "kafka.m7g.large",
    ],
    ("gcp", ("us-central1", "europe-west1")): [
        "n2-standard-2",
        "n2-standard-4",
        "n2-standard-8",
        "e2-standard-2",
        "e2-standard-4",
        "e2-standard-8",
        "c3-standard-4",
        "n2d-standard-2",
        "n2d-standard-4",
        "db-custom-2-7680",
        "db-custom-4-15360",
        "db-custom-8-30720",
        "redis-basic-1gb",
        "redis-standard-5gb",
    ],
    # Tau T2A (Arm) is not sold in europe-west1; europe-west4 is its European region.
    ("gcp", ("us-central1", "europe-west4")): ["t2a-standard-1", "t2a-standard-2", "t2a-standard-4"],
}


@pytest.mark.parametrize(
    "provider, regions, type_", [(p, rs, t) for (p, rs), types in REQUIRED.items() for t in types]
)
def test_required_types_are_priced_in_two_regions(provider, regions, type_):
    for region in regions:
        spec = lookup(provider, type_, region)
        assert spec.vcpu > 0 and spec.memory_gib > 0
        assert set(spec.hourly) == set(COMMITMENTS)


def test_every_row_is_consistent():
    catalog = load_catalog()
    assert len(catalog.rows) > 150
    for key, spec in catalog.rows.items():
        od, one, three = (spec.hourly[c] for c in COMMITMENTS)
        assert 0 < three <= one <= od, key
        assert spec.currency == "USD", key
        assert spec.arch in {"x86_64", "arm64"}, key
        refreshed = re.fullmatch(r"gcp billing catalog \d{4}-\d{2}-\d{2}", spec.on_demand_basis)
        assert spec.on_demand_basis in {"list", "regional_estimate"} or refreshed, key
        assert spec.commit_basis in {
            "published",
            "discount_rate",
            "family_ratio",
            "not_offered",
        } or re.fullmatch(r"gcp billing catalog \d{4}-\d{2}-\d{2}", spec.commit_basis), key
        if spec.commit_basis == "not_offered":
            assert od == one == three, key
        if spec.unit == "instance-hour":
            assert spec.vcpu >= 1 and spec.memory_gib > 0, key


def test_instance_sizes_are_right():
    assert (
        lookup("aws", "m6i.2xlarge", "us-east-1").vcpu,
        lookup("aws", "m6i.2xlarge", "us-east-1").memory_gib,
    ) == (8, 32)
    assert lookup("aws", "r6g.xlarge", "eu-west-1").memory_gib == 32
    assert lookup("aws", "c7g.large", "us-east-1").arch == "arm64"
    assert lookup("gcp", "db-custom-4-15360", "us-central1").memory_gib == 15
    assert lookup("gcp", "t2a-standard-4", "us-central1").arch == "arm64"


def test_arm_is_cheaper_than_x86_in_the_same_class():
    """Graviton list prices undercut the Intel ones of the same size: a typo swapping them shows here."""
    for region in ("us-east-1", "eu-west-1"):
        assert (
            lookup("aws", "m7g.large", region).hourly["on_demand"]
            < lookup("aws", "m6i.large", region).hourly["on_demand"]
        )
        assert (
            lookup("aws", "c7g.large", region).hourly["on_demand"]
            < lookup("aws", "c6i.large", region).hourly["on_demand"]
        )


@pytest.mark.parametrize(
    "provider, typo, closest",
    [
        ("aws", "m6i.larg", "m6i.large"),
        ("aws", "db.r6g.xlarg", "db.r6g.xlarge"),
        ("aws", "cache.r6g.lage", "cache.r6g.large"),
        ("gcp", "n2-standrd-4", "n2-standard-4"),
    ],
)
def test_unknown_type_names_the_closest_ones(provider, typo, closest):
    with pytest.raises(UnknownInstanceError) as err:
        lookup(provider, typo, "us-east-1" if provider == "aws" else "us-central1")
    assert isinstance(err.value, ValueError)
    assert repr(typo) in str(err.value) and closest in str(err.value)


def test_known_type_in_unknown_region_lists_its_regions():
    with pytest.raises(UnknownInstanceError, match=r"us-west-2.*eu-west-1, us-east-1"):
        lookup("aws", "m6i.large", "us-west-2")


def test_type_of_the_other_provider_says_so():
    with pytest.raises(UnknownInstanceError, match="is a gcp type; set instance.provider: gcp"):
        lookup("aws", "n2-standard-2", "us-east-1")


def test_pod_rate_rows_are_not_instance_types():
    with pytest.raises(UnknownInstanceError, match="pod rate"):
        lookup("aws", "fargate-vcpu", "us-east-1")


def test_unknown_provider():
    with pytest.raises(UnknownInstanceError, match="known: aws, gcp"):
        lookup("azure", "Standard_D2s_v5", "eastus")


def test_instance_vcpus():
    assert instance_vcpus(Instance(vcpu=0.5, memory_gib=1)) == 0.5
    assert instance_vcpus(Instance(provider="aws", type="m6i.xlarge")) == 4
    assert instance_vcpus(Instance(provider="aws", type="db.r6g.xlarge")) == 4
    assert instance_vcpus(Instance(type="n2-standard-8")) == 8  # provider found from the type
    assert instance_vcpus(None) is None
    # Unknown types are refused at load by validate_prices; here the engine falls back to its default.
    assert instance_vcpus(Instance(provider="aws", type="m6i.larg")) is None
    assert instance_vcpus(Instance(provider="aws", type="n2-standard-8")) is None  # a gcp type
    assert instance_vcpus(Instance(provider="aws", type="fargate-vcpu")) is None  # a pod rate, not a machine


def test_pod_pricing_is_per_vcpu_and_gib():
    fargate = hourly_price(Instance(vcpu=0.5, memory_gib=1), Pricing(provider="aws", region="us-east-1"))
    assert fargate == pytest.approx(0.5 * 0.04048 + 1 * 0.004445)
    autopilot = hourly_price(Instance(vcpu=1, memory_gib=2), Pricing(provider="gcp", region="us-central1"))
    assert autopilot == pytest.approx(0.0445 + 2 * 0.0049225)
    # Doubling the memory alone adds exactly one more GiB-rate per GiB.
    bigger = hourly_price(Instance(vcpu=1, memory_gib=4), Pricing(provider="gcp", region="us-central1"))
    assert bigger - autopilot == pytest.approx(2 * 0.0049225)


def test_commitment_switches_the_price():
    m6i = Instance(provider="aws", type="m6i.large")
    prices = [hourly_price(m6i, Pricing(commitment=c)) for c in COMMITMENTS]
    assert prices[0] == pytest.approx(0.096)
    assert prices[0] > prices[1] > prices[2]
    pod = [hourly_price(Instance(vcpu=1, memory_gib=2), Pricing(commitment=c)) for c in COMMITMENTS]
    assert pod[0] > pod[1] > pod[2]
    msk = {
        hourly_price(Instance(provider="aws", type="kafka.m5.large"), Pricing(commitment=c))
        for c in COMMITMENTS
    }
    assert msk == {0.21}  # MSK sells no reservations


def test_instance_of_another_provider_prices_in_the_same_geography():
    redis = Instance(provider="gcp", type="redis-standard-5gb")
    assert (
        hourly_price(redis, Pricing(provider="aws", region="us-east-1"))
        == lookup("gcp", "redis-standard-5gb", "us-central1").hourly["on_demand"]
    )
    assert (
        hourly_price(redis, Pricing(provider="aws", region="eu-west-1"))
        == lookup("gcp", "redis-standard-5gb", "europe-west1").hourly["on_demand"]
    )


def test_catalog_is_loaded_once():
    assert load_catalog() is load_catalog()


def test_duplicate_rows_are_refused(tmp_path):
    header = "provider,service,type,region,vcpu,memory_gib,arch,family,unit,on_demand,1yr,3yr,currency,on_demand_basis,commit_basis,as_of\n"
    row = "aws,ec2,m6i.large,us-east-1,2,8,x86_64,general,instance-hour,0.096,0.06,0.04,USD,list,published,2025-06-01\n"
    path = tmp_path / "prices.csv"
    path.write_text(header + row + row)
    with pytest.raises(ValueError, match="duplicate"):
        read_catalog(path)
    path.write_text(header + row)
    assert lookup("aws", "m6i.large", "us-east-1", read_catalog(path)).hourly["3yr"] == 0.04


def test_the_region_and_provider_index_is_the_scan_of_every_row():
    """Catalog.regions and provider_of answer from an index built once; it must say what a scan says."""
    catalog = load_catalog()
    types = sorted({t for (_p, t, _r) in catalog.rows}) + ["no-such-type"]
    for provider in ("aws", "gcp", "azure"):
        for type_ in [None, *types]:
            scan = sorted({r for (p, t, r) in catalog.rows if p == provider and type_ in (None, t)})
            assert catalog.regions(provider, type_) == scan, (provider, type_)
    for type_ in types:
        assert catalog.provider_of(type_) == sorted({p for (p, t, _r) in catalog.rows if t == type_})
    assert catalog.regions("aws") and catalog.regions("aws") is not catalog.regions("aws")  # a copy each time
