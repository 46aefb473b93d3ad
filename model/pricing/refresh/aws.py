"""Refresh `data/prices.csv` from the AWS Price List API (boto3 `pricing`, `get_products`).

Run `python -m model.pricing.refresh` with AWS credentials (any identity may read the Price
List API; it answers from us-east-1). It re-prices every EC2, RDS, Aurora and ElastiCache row
already in the catalog, for its region, and writes the same CSV: on-demand, 1-year and
3-year reserved (no upfront; partial upfront as an effective hourly rate where, as on RDS,
no 3-year no-upfront exists), plus vCPUs and memory. Rows it cannot refresh (MSK, Fargate,
every GCP row, and any type the API does not return) are kept as they were, and listed.
`--provider gcp` refreshes the GCP rows from the Cloud Billing Catalog instead
(`model/pricing/refresh/gcp.py`; see data/PRICES.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Iterable

from model.pricing.catalog import PRICES_CSV
from model.pricing.refresh.rows import read_rows, write_rows

HOURS_PER_YEAR = 8760

# service -> (Price List service code, attribute filters shared by every type of that service)
SERVICE_QUERIES: dict[str, tuple[str, dict[str, str]]] = {
    "ec2": (
        "AmazonEC2",
        {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"},
    ),
    "rds": ("AmazonRDS", {"databaseEngine": "PostgreSQL", "deploymentOption": "Single-AZ"}),
    "aurora": ("AmazonRDS", {"databaseEngine": "Aurora PostgreSQL", "deploymentOption": "Single-AZ"}),
    "elasticache": ("AmazonElastiCache", {"cacheEngine": "Redis"}),
}


def api_instance_type(service: str, type_: str) -> str:
    """Our Aurora types carry an `aurora.` prefix so they do not collide with RDS's names."""
    return type_.removeprefix("aurora.") if service == "aurora" else type_


def product_filters(service: str, type_: str, region: str) -> list[dict[str, str]]:
    code_filters = SERVICE_QUERIES[service][1] | {
        "instanceType": api_instance_type(service, type_),
        "regionCode": region,
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in code_filters.items()]


def fetch_products(client: Any, service: str, type_: str, region: str) -> list[dict]:
    """All Price List products for one type in one region (PriceList items are JSON strings)."""
    paginator = client.get_paginator("get_products")
    pages = paginator.paginate(
        ServiceCode=SERVICE_QUERIES[service][0],
        FormatVersion="aws_v1",
        Filters=product_filters(service, type_, region),
    )
    return [json.loads(item) for page in pages for item in page["PriceList"]]


def _dimensions(term: dict) -> Iterable[dict]:
    return term.get("priceDimensions", {}).values()


def _usd(dimension: dict) -> float:
    return float(dimension["pricePerUnit"]["USD"])


def on_demand_hourly(product: dict) -> float | None:
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dim in _dimensions(term):
            if dim.get("unit") == "Hrs" and _usd(dim) > 0:
                return _usd(dim)
    return None


def reserved_hourly(product: dict, years: int, purchase_option: str) -> float | None:
    """Effective hourly price of a standard reservation: hourly fee plus upfront spread over the term."""
    for term in product.get("terms", {}).get("Reserved", {}).values():
        attrs = term.get("termAttributes", {})
        if (
            attrs.get("LeaseContractLength") != f"{years}yr"
            or attrs.get("PurchaseOption") != purchase_option
            or attrs.get("OfferingClass", "standard") != "standard"
        ):
            continue
        hourly = sum(_usd(d) for d in _dimensions(term) if d.get("unit") == "Hrs")
        upfront = sum(_usd(d) for d in _dimensions(term) if d.get("unit") == "Quantity")
        return hourly + upfront / (years * HOURS_PER_YEAR)
    return None


def _is_io_optimized(product: dict) -> bool:
    """Aurora I/O-Optimized is a pricier variant of the same type; the catalog holds Aurora Standard."""
    attrs = product.get("product", {}).get("attributes", {})
    return any("io-optimized" in str(v).lower() or "iooptimized" in str(v).lower() for v in attrs.values())


def _gib(memory: str) -> float:
    return float(memory.replace(",", "").split()[0])


def refreshed_row(row: dict, products: list[dict], as_of: str) -> dict | None:
    """The row re-priced from the API's products, or None when they do not price it."""
    for product in products:
        if _is_io_optimized(product):
            continue
        on_demand = on_demand_hourly(product)
        one_year = reserved_hourly(product, 1, "No Upfront")
        three_year = reserved_hourly(product, 3, "No Upfront") or reserved_hourly(
            product, 3, "Partial Upfront"
        )
        if on_demand is None or one_year is None or three_year is None:
            continue
        attrs = product["product"]["attributes"]
        return row | {
            "vcpu": attrs.get("vcpu", row["vcpu"]),
            "memory_gib": _gib(attrs["memory"]) if "memory" in attrs else row["memory_gib"],
            "on_demand": round(on_demand, 6),
            "1yr": round(one_year, 6),
            "3yr": round(three_year, 6),
            "on_demand_basis": "list",
            "commit_basis": "published",
            "as_of": as_of,
        }
    return None


def refresh_aws(rows: list[dict], client: Any, as_of: str) -> tuple[list[dict], list[str]]:
    """Re-price the AWS rows the Price List API covers; return the rows and what was kept as is."""
    out: list[dict] = []
    kept: list[str] = []
    for row in rows:
        if row["provider"] != "aws" or row["service"] not in SERVICE_QUERIES:
            out.append(row)
            continue
        new = refreshed_row(row, fetch_products(client, row["service"], row["type"], row["region"]), as_of)
        if new is None:
            kept.append(f"{row['type']} {row['region']}")
        out.append(new or row)
    return out, kept


def main(argv: list[str] | None = None, client: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--catalog", type=Path, default=PRICES_CSV, help="CSV to read (default: the bundled one)"
    )
    parser.add_argument("--out", type=Path, default=None, help="CSV to write (default: overwrite --catalog)")
    parser.add_argument(
        "--provider",
        choices=("aws", "gcp"),
        default="aws",
        help="aws: the Price List API (default); gcp: the Cloud Billing Catalog",
    )
    args = parser.parse_args(argv)
    if args.provider == "gcp":
        from model.pricing.refresh.gcp import run  # its own client and dependencies

        return run(args.catalog, args.out, client=client)
    if client is None:
        import boto3  # only the refresh needs it; the catalog itself is plain CSV

        client = boto3.client("pricing", region_name="us-east-1")
    fieldnames, rows = read_rows(args.catalog)
    rows, kept = refresh_aws(rows, client, dt.date.today().isoformat())
    write_rows(args.out or args.catalog, fieldnames, rows)
    if kept:
        print(f"kept {len(kept)} AWS rows the API did not price: {', '.join(kept)}", file=sys.stderr)
    print(
        f"wrote {len(rows)} rows to {args.out or args.catalog}; update data/PRICES.md with today's date",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
