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

import shutil

import pytest

from model.pricing.catalog import PRICES_CSV, read_catalog
from model.pricing.refresh import aws as catalog_refresh, gcp as catalog_refresh_gcp
from model.pricing.refresh.gcp_rates import hourly_usd
from tests.model.pricing.fake_billing_catalog import (
    E2_CORE,
    E2_RAM,
    FAST_RETRY,
    GCE,
    N2_CORE,
    N2_CORE_1Y,
    N2_CORE_3Y,
    N2_CORE_EU,
    N2_RAM,
    N2_RAM_1Y,
    N2_RAM_3Y,
    N2_RAM_EU,
    TODAY,
    US,
    sku,
)
from tests.model.pricing.gcp_price_rows import prices_of, rows_of


def test_refresh_prices_rows_from_the_fake_catalog(fake, prices, tmp_path, capsys):
    server, client = fake
    out = tmp_path / "out.csv"
    assert (
        catalog_refresh_gcp.main(
            ["--catalog", str(prices), "--out", str(out)], client=client, retry=FAST_RETRY
        )
        == 0
    )
    rows = rows_of(out)
    basis = f"gcp billing catalog {TODAY}"

    # GCE: vcpu x core + GiB x RAM, for on-demand and both resource-based commitments.
    n2 = rows[("n2-standard-4", "us-central1")]
    assert prices_of(n2) == pytest.approx(
        (4 * N2_CORE + 16 * N2_RAM, 4 * N2_CORE_1Y + 16 * N2_RAM_1Y, 4 * N2_CORE_3Y + 16 * N2_RAM_3Y),
        abs=1e-7,
    )
    assert prices_of(n2) == pytest.approx((0.204, 0.128528, 0.091808), abs=1e-7)  # by hand
    assert (n2["on_demand_basis"], n2["commit_basis"], n2["as_of"]) == (basis, basis, TODAY)
    assert float(rows[("n2-highmem-2", "us-central1")]["on_demand"]) == pytest.approx(
        2 * 0.0332 + 16 * 0.00445
    )
    # Europe: the region's own SKU, not the 9.0 one spread over three regions; no EU commitment
    # SKU, so the commitments keep the row's own CUD ratio and say so.
    eu = rows[("n2-standard-2", "europe-west1")]
    eu_od = 2 * N2_CORE_EU + 8 * N2_RAM_EU
    assert prices_of(eu) == pytest.approx(
        (eu_od, eu_od * 0.0673028 / 0.1068298, eu_od * 0.0480734 / 0.1068298), abs=1e-7
    )
    assert (eu["on_demand_basis"], eu["commit_basis"]) == (basis, "discount_rate")
    # A tiered SKU is priced at its last tier.
    assert float(rows[("e2-standard-4", "us-central1")]["on_demand"]) == pytest.approx(
        4 * E2_CORE + 16 * E2_RAM
    )

    # Cloud SQL: per vCPU and GiB; the dollar-based commitment pays its share of on-demand.
    sql = rows[("db-custom-2-7680", "us-central1")]
    assert prices_of(sql) == pytest.approx((0.138, 0.138 * 0.75, 0.138 * 0.48), abs=1e-7)
    assert sql["commit_basis"] == basis
    # Memorystore: GiB x the capacity tier's rate (1 GB is M1, 5 GB M2, 13 GB M3).
    assert float(rows[("redis-basic-1gb", "us-central1")]["on_demand"]) == pytest.approx(0.05)
    assert float(rows[("redis-basic-5gb", "us-central1")]["on_demand"]) == pytest.approx(0.14)
    assert prices_of(rows[("redis-standard-13gb", "us-central1")]) == pytest.approx(
        (0.611, 0.611 * 0.8, 0.611 * 0.6), abs=1e-7
    )
    # Autopilot: the mCPU-hour rate is per vCPU-hour in the catalog row.
    assert float(rows[("autopilot-vcpu", "us-central1")]["on_demand"]) == pytest.approx(0.0455)
    assert float(rows[("autopilot-gib", "us-central1")]["on_demand"]) == pytest.approx(0.005)

    # Unpriceable rows are kept byte for byte and reported; the AWS row is untouched.
    by_key = rows_of(prices)  # the input, untouched: the refresh wrote to --out
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
    assert float(rows_of(prices)[("n2-standard-4", "us-central1")]["on_demand"]) == pytest.approx(0.204)


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
    before = rows_of(copy)
    assert catalog_refresh_gcp.main(["--catalog", str(copy)], client=client, retry=FAST_RETRY) == 0
    after = rows_of(copy)
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
