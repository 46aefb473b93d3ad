"""The GCP refresh when the catalog fails or the credentials are missing: retried when it may pass, a
clear error (exit 2, no traceback) when it cannot, and the catalog file left unchanged; the fake
Cloud Billing Catalog is tests/model/pricing/fake_billing_catalog.py.
"""

from __future__ import annotations

import grpc
import pytest

from model.pricing.refresh import gcp as catalog_refresh_gcp
from model.pricing.refresh.gcp import default_retry
from tests.model.pricing.fake_billing_catalog import FAST_RETRY
from tests.model.pricing.gcp_price_rows import rows_of


def test_unavailable_is_retried(fake, prices):
    server, client = fake
    server.fail = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]
    assert catalog_refresh_gcp.main(["--catalog", str(prices)], client=client, retry=FAST_RETRY) == 0
    assert float(rows_of(prices)[("db-custom-2-7680", "us-central1")]["on_demand"]) == pytest.approx(0.138)
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
