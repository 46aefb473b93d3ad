"""The AWS Price List refresh, against botocore's Stubber with real `get_products` shapes.

moto has no Pricing API, so the client is stubbed. The products below follow the API's
real structure (PriceList items are JSON *strings*; offer term codes, units "Hrs" and
"Quantity", termAttributes); their prices are test values, chosen to differ from the
bundled catalog so that a refresh that changed nothing would fail.
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber

from model.pricing.catalog import read_catalog
from model.pricing.refresh.aws import main, product_filters

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
        "aws",
        "rds",
        "db.m6g.large",
        "us-east-1",
        "2",
        "8",
        "arm64",
        "general",
        "instance-hour",
        "0.159",
        "0.1",
        "0.06",
        "USD",
        "list",
        "family_ratio",
        "2025-06-01",
    ],
    [
        "aws",
        "aurora",
        "aurora.db.r6g.large",
        "us-east-1",
        "2",
        "16",
        "arm64",
        "memory",
        "instance-hour",
        "0.26",
        "0.17",
        "0.1",
        "USD",
        "list",
        "family_ratio",
        "2025-06-01",
    ],
    [
        "aws",
        "ec2",
        "m7g.large",
        "eu-west-1",
        "2",
        "8",
        "arm64",
        "general",
        "instance-hour",
        "0.0912",
        "0.06",
        "0.04",
        "USD",
        "regional_estimate",
        "family_ratio",
        "2025-06-01",
    ],
    [
        "aws",
        "msk",
        "kafka.m5.large",
        "us-east-1",
        "2",
        "8",
        "x86_64",
        "general",
        "instance-hour",
        "0.21",
        "0.21",
        "0.21",
        "USD",
        "list",
        "not_offered",
        "2025-06-01",
    ],
    [
        "gcp",
        "gce",
        "n2-standard-2",
        "us-central1",
        "2",
        "8",
        "x86_64",
        "general",
        "instance-hour",
        "0.097118",
        "0.06",
        "0.04",
        "USD",
        "list",
        "discount_rate",
        "2025-06-01",
    ],
]


def _dimension(sku: str, term: str, code: str, unit: str, usd: str, description: str) -> dict:
    rate = f"{sku}.{term}.{code}"
    return {
        rate: {
            "unit": unit,
            "endRange": "Inf",
            "description": description,
            "appliesTo": [],
            "rateCode": rate,
            "beginRange": "0",
            "pricePerUnit": {"USD": usd},
        }
    }


def _reserved(
    sku: str,
    term: str,
    length: str,
    option: str,
    hourly: str,
    upfront: str | None = None,
    offering: str = "standard",
) -> dict:
    dims = _dimension(sku, term, "6YS6EN2CT7", "Hrs", hourly, "USD per hour")
    if upfront is not None:
        dims |= _dimension(sku, term, "2TG2D8R56U", "Quantity", upfront, "Upfront Fee")
    return {
        f"{sku}.{term}": {
            "priceDimensions": dims,
            "sku": sku,
            "effectiveDate": "2025-10-01T00:00:00Z",
            "offerTermCode": term,
            "termAttributes": {
                "LeaseContractLength": length,
                "OfferingClass": offering,
                "PurchaseOption": option,
            },
        }
    }


def _product(sku: str, service_code: str, attributes: dict, on_demand: str, reserved: dict) -> str:
    """One PriceList item, serialised as the API sends it: a JSON string."""
    return json.dumps(
        {
            "product": {
                "productFamily": "Compute Instance" if service_code == "AmazonEC2" else "Database Instance",
                "attributes": attributes,
                "sku": sku,
            },
            "serviceCode": service_code,
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": _dimension(
                            sku, "JRTCKXETXF", "6YS6EN2CT7", "Hrs", on_demand, "On Demand hour"
                        ),
                        "sku": sku,
                        "effectiveDate": "2025-10-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                },
                "Reserved": reserved,
            },
            "version": "20251001000000",
            "publicationDate": "2025-10-01T00:00:00Z",
        }
    )


EC2_M6I = _product(
    "2FQ3R3RFRRAVFHZ9",
    "AmazonEC2",
    {
        "instanceType": "m6i.large",
        "vcpu": "2",
        "memory": "8 GiB",
        "regionCode": "us-east-1",
        "location": "US East (N. Virginia)",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "usagetype": "BoxUsage:m6i.large",
        "servicecode": "AmazonEC2",
    },
    "0.0990000000",
    _reserved("2FQ3R3RFRRAVFHZ9", "4NA7Y494T4", "1yr", "No Upfront", "0.0620000000")
    | _reserved("2FQ3R3RFRRAVFHZ9", "7NE97W5U4E", "1yr", "No Upfront", "0.0700000000", offering="convertible")
    | _reserved("2FQ3R3RFRRAVFHZ9", "BPH4J8HBKS", "3yr", "No Upfront", "0.0430000000")
    | _reserved("2FQ3R3RFRRAVFHZ9", "38NPMPTW36", "3yr", "Partial Upfront", "0.0200000000", upfront="500"),
)

# RDS sells no 3-year no-upfront: the refresh must spread the partial upfront fee over the term.
RDS_M6G = _product(
    "QXBZ4ZJ7D2V5QH5W",
    "AmazonRDS",
    {
        "instanceType": "db.m6g.large",
        "vcpu": "2",
        "memory": "8 GiB",
        "regionCode": "us-east-1",
        "databaseEngine": "PostgreSQL",
        "deploymentOption": "Single-AZ",
        "usagetype": "InstanceUsage:db.m6g.large",
    },
    "0.1620000000",
    _reserved("QXBZ4ZJ7D2V5QH5W", "4NA7Y494T4", "1yr", "No Upfront", "0.1040000000")
    | _reserved("QXBZ4ZJ7D2V5QH5W", "38NPMPTW36", "3yr", "Partial Upfront", "0.0300000000", upfront="1000"),
)

AURORA_IO = _product(
    "AAAAIOOPTIMIZED1",
    "AmazonRDS",
    {
        "instanceType": "db.r6g.large",
        "vcpu": "2",
        "memory": "16 GiB",
        "regionCode": "us-east-1",
        "databaseEngine": "Aurora PostgreSQL",
        "deploymentOption": "Single-AZ",
        "usagetype": "InstanceUsageIOOptimized:db.r6g.large",
        "storage": "Aurora IO Optimization Mode",
    },
    "0.3380000000",
    _reserved("AAAAIOOPTIMIZED1", "4NA7Y494T4", "1yr", "No Upfront", "0.2300000000")
    | _reserved("AAAAIOOPTIMIZED1", "38NPMPTW36", "3yr", "Partial Upfront", "0.1000000000", upfront="900"),
)
AURORA_STD = _product(
    "BBBBSTANDARD0001",
    "AmazonRDS",
    {
        "instanceType": "db.r6g.large",
        "vcpu": "2",
        "memory": "16 GiB",
        "regionCode": "us-east-1",
        "databaseEngine": "Aurora PostgreSQL",
        "deploymentOption": "Single-AZ",
        "usagetype": "InstanceUsage:db.r6g.large",
    },
    "0.2700000000",
    _reserved("BBBBSTANDARD0001", "4NA7Y494T4", "1yr", "No Upfront", "0.1800000000")
    | _reserved("BBBBSTANDARD0001", "38NPMPTW36", "3yr", "Partial Upfront", "0.0800000000", upfront="700"),
)


def _expect(
    stub: Stubber, service_code: str, service: str, type_: str, region: str, pages: list[list[str]]
) -> None:
    for i, items in enumerate(pages):
        params = {
            "ServiceCode": service_code,
            "FormatVersion": "aws_v1",
            "Filters": product_filters(service, type_, region),
        }
        if i:
            params["NextToken"] = f"token-{i}"
        response = {"FormatVersion": "aws_v1", "PriceList": items}
        if i < len(pages) - 1:
            response["NextToken"] = f"token-{i + 1}"
        stub.add_response("get_products", response, params)


@pytest.fixture
def catalog_csv(price_csv):
    return price_csv(ROWS)


def test_refresh_reprices_aws_rows_from_get_products(catalog_csv, tmp_path, capsys):
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    out = tmp_path / "out.csv"
    with Stubber(client) as stub:
        _expect(stub, "AmazonEC2", "ec2", "m6i.large", "us-east-1", [[EC2_M6I]])
        _expect(stub, "AmazonRDS", "rds", "db.m6g.large", "us-east-1", [[RDS_M6G]])
        # Two pages: the I/O-Optimized variant first, Aurora Standard behind the NextToken.
        _expect(stub, "AmazonRDS", "aurora", "aurora.db.r6g.large", "us-east-1", [[AURORA_IO], [AURORA_STD]])
        _expect(stub, "AmazonEC2", "ec2", "m7g.large", "eu-west-1", [[]])
        assert main(["--catalog", str(catalog_csv), "--out", str(out)], client=client) == 0
        stub.assert_no_pending_responses()

    after = read_catalog(out).rows
    m6i = after[("aws", "m6i.large", "us-east-1")]
    assert m6i.hourly == {"on_demand": 0.099, "1yr": 0.062, "3yr": 0.043}  # standard, not convertible
    assert m6i.commit_basis == "published" and m6i.as_of == dt.date.today().isoformat()
    rds = after[("aws", "db.m6g.large", "us-east-1")]
    assert rds.hourly["3yr"] == pytest.approx(0.03 + 1000 / (3 * 8760), abs=1e-6)
    aurora = after[("aws", "aurora.db.r6g.large", "us-east-1")]
    assert aurora.hourly["on_demand"] == 0.27  # I/O-Optimized skipped
    # Not returned by the API, not covered by it, or not AWS: kept as they were, and reported.
    assert after[("aws", "m7g.large", "eu-west-1")].hourly["on_demand"] == 0.0912
    assert after[("aws", "kafka.m5.large", "us-east-1")].hourly["on_demand"] == 0.21
    assert after[("gcp", "n2-standard-2", "us-central1")].hourly["on_demand"] == 0.097118
    assert "m7g.large eu-west-1" in capsys.readouterr().err


def test_filters_name_the_type_region_and_engine():
    filters = {f["Field"]: f["Value"] for f in product_filters("aurora", "aurora.db.r6g.large", "eu-west-1")}
    assert filters == {
        "databaseEngine": "Aurora PostgreSQL",
        "deploymentOption": "Single-AZ",
        "instanceType": "db.r6g.large",
        "regionCode": "eu-west-1",
    }
    assert all(f["Type"] == "TERM_MATCH" for f in product_filters("ec2", "m6i.large", "us-east-1"))
