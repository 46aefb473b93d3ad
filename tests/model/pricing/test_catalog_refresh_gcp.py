"""The GCP refresh against a local fake `google.cloud.billing.v1.CloudCatalog` gRPC server.

There is no emulator for the Cloud Billing Catalog, so the fake registers a generic gRPC
handler with the client package's own proto-plus types (as tests/connectors/conftest.py
does for Cloud Monitoring) on 127.0.0.1, and the real `CloudCatalogClient` talks to it over
an insecure channel. Nothing leaves loopback. The SKUs follow the real catalog's shapes
(descriptions, categories, service regions, `h` / `GiBy.h` units with their base units,
tiered rates in units + nanos); their prices are test values that differ from the bundled
catalog, so a refresh that changed nothing would fail.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.cloud import billing_v1
from google.cloud.billing_v1 import types
from google.cloud.billing_v1.services.cloud_catalog.transports import CloudCatalogGrpcTransport

from model.pricing.refresh import aws as catalog_refresh, gcp as catalog_refresh_gcp
from model.pricing.catalog import PRICES_CSV, read_catalog
from model.pricing.refresh.gcp import default_retry, hourly_usd

GCE, SQL, REDIS, GKE = "6F81-5844-456A", "9662-B51E-5089", "5AF5-2C11-D467", "CCD8-9BF1-090E"
US = ["us-central1"]
AMERICAS = ["us-central1", "us-east1", "us-east4", "us-west1"]
EMEA = ["europe-west1"]
TODAY = dt.date.today().isoformat()


def _tier(usd: float, start: float) -> types.PricingExpression.TierRate:
    units = int(usd)
    return types.PricingExpression.TierRate(
        start_usage_amount=start,
        unit_price={"currency_code": "USD", "units": units, "nanos": round((usd - units) * 1e9)},
    )


def sku(
    service: str,
    sku_id: str,
    description: str,
    usd: float | list[float],
    regions: list[str],
    *,
    usage_type: str = "OnDemand",
    family: str = "Compute",
    group: str = "CPU",
    unit: str = "h",
) -> types.Sku:
    """A SKU as ListSkus returns it; a list of prices makes tiers (the last is the volume rate)."""
    per_gib = unit.startswith("GiBy")
    expr = types.PricingExpression(
        usage_unit=unit,
        usage_unit_description="gibibyte hour" if per_gib else "hour",
        base_unit="By.s" if per_gib else "s",
        base_unit_description="byte second" if per_gib else "second",
        base_unit_conversion_factor=3600 * 2**30 if per_gib else 3600,
        display_quantity=1,
        tiered_rates=[_tier(p, 100.0 * i) for i, p in enumerate(usd if isinstance(usd, list) else [usd])],
    )
    return types.Sku(
        name=f"services/{service}/skus/{sku_id}",
        sku_id=sku_id,
        description=description,
        category={
            "service_display_name": {
                GCE: "Compute Engine",
                SQL: "Cloud SQL",
                REDIS: "Cloud Memorystore for Redis",
                GKE: "Kubernetes Engine",
            }[service],
            "resource_family": family,
            "resource_group": group,
            "usage_type": usage_type,
        },
        service_regions=regions,
        service_provider_name="Google",
        pricing_info=[
            {
                "summary": "",
                "pricing_expression": expr,
                "currency_conversion_rate": 1.0,
                "effective_time": {"seconds": 1767225600},
            }
        ],
        geo_taxonomy={"type": "REGIONAL" if len(regions) == 1 else "MULTI_REGIONAL", "regions": regions},
    )


# Test rates (USD per vCPU-hour / GiB-hour).
N2_CORE, N2_RAM = 0.0332, 0.00445
N2_CORE_1Y, N2_RAM_1Y, N2_CORE_3Y, N2_RAM_3Y = 0.020916, 0.002804, 0.01494, 0.002003
N2_CORE_EU, N2_RAM_EU = 0.036, 0.0049
E2_CORE, E2_RAM = 0.0229, 0.00307
SQL_CPU, SQL_RAM, SQL_1Y, SQL_3Y = 0.042, 0.0072, 0.0075, 0.0048
REDIS_B1, REDIS_B2, REDIS_S3 = 0.05, 0.028, 0.047
AP_MCPU, AP_GIB = 0.0000455, 0.005

SKUS = {
    GCE: [
        sku(GCE, "A0B1-0001", "N2 Instance Core running in Americas", N2_CORE, AMERICAS),
        sku(
            GCE,
            "A0B1-0002",
            "N2 Instance Ram running in Americas",
            N2_RAM,
            AMERICAS,
            group="RAM",
            unit="GiBy.h",
        ),
        sku(GCE, "A0B1-0003", "N2 Instance Core running in EMEA", N2_CORE_EU, EMEA),
        sku(GCE, "A0B1-0004", "N2 Instance Ram running in EMEA", N2_RAM_EU, EMEA, group="RAM", unit="GiBy.h"),
        # A wide multi-region SKU must lose to the region's own one.
        sku(
            GCE, "A0B1-0005", "N2 Instance Core running in EMEA", 9.0, EMEA + ["europe-west4", "europe-west2"]
        ),
        sku(
            GCE,
            "A0B1-0006",
            "Commitment v1: N2 Cpu in Americas for 1 Year",
            N2_CORE_1Y,
            AMERICAS,
            usage_type="Commit1Yr",
        ),
        sku(
            GCE,
            "A0B1-0007",
            "Commitment v1: N2 Ram in Americas for 1 Year",
            N2_RAM_1Y,
            AMERICAS,
            usage_type="Commit1Yr",
            group="RAM",
            unit="GiBy.h",
        ),
        sku(
            GCE,
            "A0B1-0008",
            "Commitment v1: N2 Cpu in Americas for 3 Year",
            N2_CORE_3Y,
            AMERICAS,
            usage_type="Commit3Yr",
        ),
        sku(
            GCE,
            "A0B1-0009",
            "Commitment v1: N2 Ram in Americas for 3 Year",
            N2_RAM_3Y,
            AMERICAS,
            usage_type="Commit3Yr",
            group="RAM",
            unit="GiBy.h",
        ),
        # Decoys that carry the series token but are not the predefined on-demand rate.
        sku(GCE, "A0B1-0010", "N2 Custom Instance Core running in Americas", 0.5, AMERICAS),
        sku(
            GCE,
            "A0B1-0011",
            "Spot Preemptible N2 Instance Core running in Americas",
            0.001,
            AMERICAS,
            usage_type="Preemptible",
        ),
        sku(GCE, "A0B1-0012", "N2 Sole Tenancy Instance Core running in Americas", 0.7, AMERICAS),
        sku(
            GCE,
            "A0B1-0013",
            "Commitment v1: N2 Local SSD In Americas for 1 Year",
            0.1,
            AMERICAS,
            usage_type="Commit1Yr",
        ),
        sku(GCE, "A0B1-0014", "E2 Instance Core running in Americas", E2_CORE, AMERICAS),
        # A tiered RAM rate whose first tier is free: the last tier is the price.
        sku(
            GCE,
            "A0B1-0015",
            "E2 Instance Ram running in Americas",
            [0.0, E2_RAM],
            AMERICAS,
            group="RAM",
            unit="GiBy.h",
        ),
        sku(GCE, "A0B1-0016", "N2D AMD Instance Core running in Americas", 0.0290, AMERICAS),
        sku(
            GCE,
            "A0B1-0017",
            "Network Internet Egress from Americas to EMEA",
            0.12,
            AMERICAS,
            family="Network",
            group="PremiumInternetEgress",
            unit="GiBy",
        ),
    ],
    SQL: [
        sku(
            SQL,
            "B0C1-0001",
            "Cloud SQL for PostgreSQL: Zonal - vCPU in Americas",
            SQL_CPU,
            US,
            family="ApplicationServices",
            group="SQLGen2InstancesCPU",
        ),
        sku(
            SQL,
            "B0C1-0002",
            "Cloud SQL for PostgreSQL: Zonal - RAM in Americas",
            SQL_RAM,
            US,
            family="ApplicationServices",
            group="SQLGen2InstancesRAM",
            unit="GiBy.h",
        ),
        sku(
            SQL,
            "B0C1-0003",
            "Cloud SQL for PostgreSQL: Regional - vCPU in Americas",
            2 * SQL_CPU,
            US,
            family="ApplicationServices",
            group="SQLGen2InstancesCPU",
        ),
        sku(
            SQL,
            "B0C1-0004",
            "Commitment - dollar based v1: Cloud SQL database us-central1 for 1 year",
            SQL_1Y,
            US,
            family="ApplicationServices",
            group="SQLGen2InstancesCPU",
            usage_type="Commit1Yr",
        ),
        sku(
            SQL,
            "B0C1-0005",
            "Commitment - dollar based v1: Cloud SQL database us-central1 for 3 years",
            SQL_3Y,
            US,
            family="ApplicationServices",
            group="SQLGen2InstancesCPU",
            usage_type="Commit3Yr",
        ),
    ],
    REDIS: [
        sku(
            REDIS,
            "C0D1-0001",
            "Redis Capacity Basic M1 Iowa",
            REDIS_B1,
            US,
            family="ApplicationServices",
            group="Memorystore",
            unit="GiBy.h",
        ),
        sku(
            REDIS,
            "C0D1-0002",
            "Redis Capacity Basic M2 Iowa",
            REDIS_B2,
            US,
            family="ApplicationServices",
            group="Memorystore",
            unit="GiBy.h",
        ),
        sku(
            REDIS,
            "C0D1-0003",
            "Redis Capacity Standard M3 Iowa",
            REDIS_S3,
            US,
            family="ApplicationServices",
            group="Memorystore",
            unit="GiBy.h",
        ),
    ],
    GKE: [
        sku(GKE, "D0E1-0001", "Autopilot Pod mCPU Requests (us-central1)", AP_MCPU, US, group="CPU"),
        sku(
            GKE,
            "D0E1-0002",
            "Autopilot Pod Memory Requests (us-central1)",
            AP_GIB,
            US,
            group="RAM",
            unit="GiBy.h",
        ),
        sku(
            GKE,
            "D0E1-0003",
            "Autopilot Spot Pod mCPU Requests (us-central1)",
            0.0000133,
            US,
            group="CPU",
            usage_type="Preemptible",
        ),
        sku(
            GKE, "D0E1-0004", "Autopilot Balanced Pod mCPU Requests (us-central1)", 0.0000624, US, group="CPU"
        ),
    ],
}
SERVICES = [
    types.Service(
        name=f"services/{sid}", service_id=sid, display_name=name, business_entity_name="businessEntities/GCP"
    )
    for sid, name in [
        ("95FF-2EF5-5EA1", "Cloud Storage"),
        (GCE, "Compute Engine"),
        (SQL, "Cloud SQL"),
        (REDIS, "Cloud Memorystore for Redis"),
        (GKE, "Kubernetes Engine"),
    ]
]


@dataclass
class FakeCatalog:
    """google.cloud.billing.v1.CloudCatalog: pages of at most `page_size`; `fail` codes answered first."""

    page_size: int = 4
    fail: list = field(default_factory=list)
    sku_requests: list = field(default_factory=list)

    def _maybe_fail(self, context) -> None:
        if self.fail:
            context.abort(self.fail.pop(0), "injected failure")

    def _page(self, items: list, request):
        size = min(request.page_size or self.page_size, self.page_size)
        offset = int(request.page_token or 0)
        token = str(offset + size) if offset + size < len(items) else ""
        return items[offset : offset + size], token

    def list_services(self, request, context):
        self._maybe_fail(context)
        page, token = self._page(SERVICES, request)
        return types.ListServicesResponse(services=page, next_page_token=token)

    def list_skus(self, request, context):
        self.sku_requests.append(request)
        self._maybe_fail(context)
        page, token = self._page(SKUS.get(request.parent.split("/")[1], []), request)
        return types.ListSkusResponse(skus=page, next_page_token=token)


@pytest.fixture
def fake(grpc_server):
    """A started fake and a real CloudCatalogClient pointed at it."""
    fake = FakeCatalog()
    port = grpc_server(
        "google.cloud.billing.v1.CloudCatalog",
        {
            "ListServices": (fake.list_services, types.ListServicesRequest, types.ListServicesResponse),
            "ListSkus": (fake.list_skus, types.ListSkusRequest, types.ListSkusResponse),
        },
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    client = billing_v1.CloudCatalogClient(transport=CloudCatalogGrpcTransport(channel=channel))
    yield fake, client
    channel.close()


FAST_RETRY = default_retry(timeout_s=2.0, initial_s=0.05)

ROWS = [
    [
        "aws",
        "ec2",
        "m6i.large",
        "us-east-1",
        "2",
        "8",
        "x86_64",
        "general",
        "instance-hour",
        "0.096",
        "0.06",
        "0.04",
        "USD",
        "list",
        "family_ratio",
        "2025-06-01",
    ],
    [
        "gcp",
        "gce",
        "n2-standard-4",
        "us-central1",
        "4",
        "16",
        "x86_64",
        "general",
        "instance-hour",
        "0.194236",
        "0.1223687",
        "0.0874062",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "gce",
        "n2-highmem-2",
        "us-central1",
        "2",
        "16",
        "x86_64",
        "memory",
        "instance-hour",
        "0.131004",
        "0.0825325",
        "0.0589518",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "gce",
        "n2-standard-2",
        "europe-west1",
        "2",
        "8",
        "x86_64",
        "general",
        "instance-hour",
        "0.1068298",
        "0.0673028",
        "0.0480734",
        "USD",
        "regional_estimate",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "gce",
        "e2-standard-4",
        "us-central1",
        "4",
        "16",
        "x86_64",
        "general",
        "instance-hour",
        "0.134012",
        "0.0844276",
        "0.0603054",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "gce",
        "n2d-standard-2",
        "us-central1",
        "2",
        "8",
        "x86_64",
        "general",
        "instance-hour",
        "0.084492",
        "0.05323",
        "0.0380214",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "gce",
        "m1-megamem-96",
        "us-central1",
        "96",
        "1433.6",
        "x86_64",
        "memory",
        "instance-hour",
        "10.6740",
        "6.7246",
        "4.8033",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "gce",
        "t2a-standard-1",
        "us-central1",
        "1",
        "4",
        "arm64",
        "general",
        "instance-hour",
        "0.0385",
        "0.024255",
        "0.017325",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "cloudsql",
        "db-custom-2-7680",
        "us-central1",
        "2",
        "7.5",
        "x86_64",
        "general",
        "instance-hour",
        "0.1351",
        "0.101325",
        "0.064848",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "memorystore",
        "redis-basic-1gb",
        "us-central1",
        "1",
        "1",
        "x86_64",
        "memory",
        "instance-hour",
        "0.049",
        "0.0392",
        "0.0294",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "memorystore",
        "redis-basic-5gb",
        "us-central1",
        "1",
        "5",
        "x86_64",
        "memory",
        "instance-hour",
        "0.135",
        "0.108",
        "0.081",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "memorystore",
        "redis-standard-13gb",
        "us-central1",
        "1",
        "13",
        "x86_64",
        "memory",
        "instance-hour",
        "0.598",
        "0.4784",
        "0.3588",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "gke-autopilot",
        "autopilot-vcpu",
        "us-central1",
        "1",
        "0",
        "x86_64",
        "pod",
        "vcpu-hour",
        "0.0445",
        "0.0356",
        "0.024475",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
    [
        "gcp",
        "gke-autopilot",
        "autopilot-gib",
        "us-central1",
        "0",
        "1",
        "x86_64",
        "pod",
        "gib-hour",
        "0.0049225",
        "0.003938",
        "0.0027074",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
]


@pytest.fixture
def prices(price_csv) -> Path:
    return price_csv(ROWS)


def _rows(path: Path) -> dict[tuple[str, str], dict]:
    with open(path, newline="") as fh:
        return {(r["type"], r["region"]): r for r in csv.DictReader(fh)}


def _prices(row: dict) -> tuple[float, float, float]:
    return float(row["on_demand"]), float(row["1yr"]), float(row["3yr"])


def test_refresh_prices_rows_from_the_fake_catalog(fake, prices, tmp_path, capsys):
    server, client = fake
    out = tmp_path / "out.csv"
    assert (
        catalog_refresh_gcp.main(
            ["--catalog", str(prices), "--out", str(out)], client=client, retry=FAST_RETRY
        )
        == 0
    )
    rows = _rows(out)
    basis = f"gcp billing catalog {TODAY}"

    # GCE: vcpu x core + GiB x RAM, for on-demand and both resource-based commitments.
    n2 = rows[("n2-standard-4", "us-central1")]
    assert _prices(n2) == pytest.approx(
        (4 * N2_CORE + 16 * N2_RAM, 4 * N2_CORE_1Y + 16 * N2_RAM_1Y, 4 * N2_CORE_3Y + 16 * N2_RAM_3Y),
        abs=1e-7,
    )
    assert _prices(n2) == pytest.approx((0.204, 0.128528, 0.091808), abs=1e-7)  # by hand
    assert (n2["on_demand_basis"], n2["commit_basis"], n2["as_of"]) == (basis, basis, TODAY)
    assert float(rows[("n2-highmem-2", "us-central1")]["on_demand"]) == pytest.approx(
        2 * 0.0332 + 16 * 0.00445
    )
    # Europe: the region's own SKU, not the 9.0 one spread over three regions; no EU commitment
    # SKU, so the commitments keep the row's own CUD ratio and say so.
    eu = rows[("n2-standard-2", "europe-west1")]
    eu_od = 2 * N2_CORE_EU + 8 * N2_RAM_EU
    assert _prices(eu) == pytest.approx(
        (eu_od, eu_od * 0.0673028 / 0.1068298, eu_od * 0.0480734 / 0.1068298), abs=1e-7
    )
    assert (eu["on_demand_basis"], eu["commit_basis"]) == (basis, "discount_rate")
    # A tiered SKU is priced at its last tier.
    assert float(rows[("e2-standard-4", "us-central1")]["on_demand"]) == pytest.approx(
        4 * E2_CORE + 16 * E2_RAM
    )

    # Cloud SQL: per vCPU and GiB; the dollar-based commitment pays its share of on-demand.
    sql = rows[("db-custom-2-7680", "us-central1")]
    assert _prices(sql) == pytest.approx((0.138, 0.138 * 0.75, 0.138 * 0.48), abs=1e-7)
    assert sql["commit_basis"] == basis
    # Memorystore: GiB x the capacity tier's rate (1 GB is M1, 5 GB M2, 13 GB M3).
    assert float(rows[("redis-basic-1gb", "us-central1")]["on_demand"]) == pytest.approx(0.05)
    assert float(rows[("redis-basic-5gb", "us-central1")]["on_demand"]) == pytest.approx(0.14)
    assert _prices(rows[("redis-standard-13gb", "us-central1")]) == pytest.approx(
        (0.611, 0.611 * 0.8, 0.611 * 0.6), abs=1e-7
    )
    # Autopilot: the mCPU-hour rate is per vCPU-hour in the catalog row.
    assert float(rows[("autopilot-vcpu", "us-central1")]["on_demand"]) == pytest.approx(0.0455)
    assert float(rows[("autopilot-gib", "us-central1")]["on_demand"]) == pytest.approx(0.005)

    # Unpriceable rows are kept byte for byte and reported; the AWS row is untouched.
    by_key = _rows(prices)  # the input, untouched: the refresh wrote to --out
    for key in [
        ("m1-megamem-96", "us-central1"),
        ("t2a-standard-1", "us-central1"),
        ("n2d-standard-2", "us-central1"),
        ("m6i.large", "us-east-1"),
    ]:
        assert rows[key] == by_key[key], key
    err = capsys.readouterr().err
    assert "kept 3 GCP rows" in err
    assert "gce m1-megamem-96 us-central1: no SKU mapping for machine series 'm1'" in err
    assert "gce t2a-standard-1 us-central1: no on-demand SKU for t2a:core, t2a:ram in us-central1" in err
    assert "gce n2d-standard-2 us-central1: no on-demand SKU for n2d:ram" in err
    assert "refreshed 10 GCP rows" in err and "gce n2-standard-2 europe-west1" in err.split("CUD")[1]

    # The output is a catalog the planner reads, and the pages were followed with page tokens.
    assert read_catalog(out).rows[("gcp", "n2-standard-4", "us-central1")].hourly["3yr"] == pytest.approx(
        0.091808
    )
    gce_tokens = [r.page_token for r in server.sku_requests if r.parent == f"services/{GCE}"]
    assert gce_tokens == ["", "4", "8", "12", "16"]
    assert all(r.currency_code == "USD" for r in server.sku_requests)


def test_the_cli_entry_of_the_aws_module_refreshes_gcp(fake, prices, monkeypatch):
    _, client = fake
    monkeypatch.setattr(catalog_refresh_gcp, "default_retry", lambda: FAST_RETRY)
    assert catalog_refresh.main(["--provider", "gcp", "--catalog", str(prices)], client=client) == 0
    assert float(_rows(prices)[("n2-standard-4", "us-central1")]["on_demand"]) == pytest.approx(0.204)


def test_unavailable_is_retried(fake, prices):
    server, client = fake
    server.fail = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]
    assert catalog_refresh_gcp.main(["--catalog", str(prices)], client=client, retry=FAST_RETRY) == 0
    assert float(_rows(prices)[("db-custom-2-7680", "us-central1")]["on_demand"]) == pytest.approx(0.138)
    assert server.sku_requests[0].parent == server.sku_requests[1].parent  # the failed page asked again


@pytest.mark.parametrize(
    "codes, says",
    [
        ([grpc.StatusCode.PERMISSION_DENIED], "refused the request (PERMISSION_DENIED"),
        ([grpc.StatusCode.UNAVAILABLE] * 100, "kept failing after retries"),
    ],
)
def test_a_failing_server_is_a_clear_error_and_the_csv_is_unchanged(fake, prices, capsys, codes, says):
    server, client = fake
    server.fail = list(codes)
    before = prices.read_bytes()
    retry = default_retry(timeout_s=0.5, initial_s=0.05)
    assert catalog_refresh_gcp.main(["--catalog", str(prices)], client=client, retry=retry) == 2
    err = capsys.readouterr().err
    assert says in err and "was not changed" in err and "Traceback" not in err
    assert prices.read_bytes() == before


def test_missing_credentials_are_a_clear_error(prices, monkeypatch, capsys):
    from google.auth import exceptions as auth_exceptions
    import google.auth

    def no_adc(*_a, **_k):
        raise auth_exceptions.DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.delenv(catalog_refresh_gcp.API_KEY_ENV, raising=False)
    monkeypatch.setattr(google.auth, "default", no_adc)
    assert catalog_refresh_gcp.main(["--catalog", str(prices)]) == 2
    err = capsys.readouterr().err
    assert "no usable Google credentials" in err and catalog_refresh_gcp.API_KEY_ENV in err


def test_the_api_key_env_var_builds_a_key_client(monkeypatch):
    monkeypatch.setenv(catalog_refresh_gcp.API_KEY_ENV, "test-key")
    client = catalog_refresh_gcp.make_client()  # builds only; nothing is sent
    assert client._transport._credentials.token == "test-key"


def test_price_units_are_normalised_to_hours():
    per_day = sku(GCE, "X", "N2 Instance Ram running in Americas", 0.24, US, unit="GiBy.d")
    per_day.pricing_info[0].pricing_expression.base_unit_conversion_factor = 86400 * 2**30
    assert hourly_usd(per_day) == pytest.approx(0.01)
    assert hourly_usd(sku(GCE, "Y", "N2 Instance Core running in Americas", 0.0332, US)) == pytest.approx(
        0.0332
    )
    odd = sku(GCE, "Z", "N2 Instance Core running in Americas", 1.0, US, unit="count")
    odd.pricing_info[0].pricing_expression.base_unit = "count"
    assert hourly_usd(odd) is None


def test_every_bundled_gcp_row_is_refreshed_or_reported(fake, tmp_path, capsys):
    """On a copy of the real catalog: AWS rows byte-identical, each GCP row refreshed or listed."""
    _, client = fake
    copy = tmp_path / "prices.csv"
    shutil.copy(PRICES_CSV, copy)
    before = _rows(copy)
    assert catalog_refresh_gcp.main(["--catalog", str(copy)], client=client, retry=FAST_RETRY) == 0
    after = _rows(copy)
    assert list(after) == list(before)
    err = capsys.readouterr().err
    for key, row in after.items():
        if row["provider"] == "aws":
            assert row == before[key]
        elif row == before[key]:
            assert f"{row['service']} {key[0]} {key[1]}:" in err, key
        else:
            assert row["on_demand_basis"] == f"gcp billing catalog {TODAY}" and float(row["on_demand"]) > 0
    read_catalog(copy)
