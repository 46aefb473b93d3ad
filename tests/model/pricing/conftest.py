"""Fixtures of the GCP price refresh's tests: the fake Cloud Billing Catalog served on loopback with a
real client pointed at it (`fake`), and the small catalog it refreshes (`prices`)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.cloud import billing_v1
from google.cloud.billing_v1 import types
from google.cloud.billing_v1.services.cloud_catalog.transports import CloudCatalogGrpcTransport

from tests.model.pricing.fake_billing_catalog import FakeCatalog
from tests.model.pricing.gcp_price_rows import ROWS


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


@pytest.fixture
def prices(price_csv) -> Path:
    return price_csv(ROWS)
