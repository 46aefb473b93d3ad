"""A local fake of `google.cloud.billing.v1.CloudCatalog`, for the GCP price refresh's tests.

There is no emulator for the Cloud Billing Catalog, so the fake registers a generic gRPC
handler with the client package's own proto-plus types (as tests/connectors/conftest.py
does for Cloud Monitoring) on 127.0.0.1, and the real `CloudCatalogClient` talks to it over
an insecure channel. Nothing leaves loopback. The SKUs follow the real catalog's shapes
(descriptions, categories, service regions, `h` / `GiBy.h` units with their base units,
tiered rates in units + nanos); their prices are test values that differ from the bundled
catalog, so a refresh that changed nothing would fail. The `fake` fixture (conftest.py) serves it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from google.cloud.billing_v1 import types

from model.pricing.refresh.gcp import default_retry

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


FAST_RETRY = default_retry(timeout_s=2.0, initial_s=0.05)
