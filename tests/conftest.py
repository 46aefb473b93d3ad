"""Fixtures shared across the suite."""

from __future__ import annotations

import csv
import os
from concurrent import futures

import pytest

# The columns of data/prices.csv, in order: the rows tests write are lists in this order.
PRICE_COLUMNS = [
    "provider",
    "service",
    "type",
    "region",
    "vcpu",
    "memory_gib",
    "arch",
    "family",
    "unit",
    "on_demand",
    "1yr",
    "3yr",
    "currency",
    "on_demand_basis",
    "commit_basis",
    "as_of",
]


@pytest.fixture(scope="session", autouse=True)
def _series_cache(tmp_path_factory):
    """The pulled-series cache of this test process (and of the servers and CLIs it starts): never the
    user's own, and never one another process of a parallel run (pytest-xdist) writes at the same time."""
    before = os.environ.get("HEADROOM_CACHE_DIR")
    os.environ["HEADROOM_CACHE_DIR"] = str(tmp_path_factory.mktemp("series-cache"))
    yield
    if before is None:
        os.environ.pop("HEADROOM_CACHE_DIR", None)
    else:
        os.environ["HEADROOM_CACHE_DIR"] = before


@pytest.fixture
def price_csv(tmp_path):
    """`write(rows)` writes a small price catalog (rows as lists of PRICE_COLUMNS) and returns its path."""

    def write(rows: list[list[str]]):
        path = tmp_path / "prices.csv"
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(PRICE_COLUMNS)
            writer.writerows(rows)
        return path

    return write


@pytest.fixture
def grpc_server():
    """Serve a fake Google gRPC service on 127.0.0.1, the way the real clients speak to one.

    `start(service, {method: (handler, request_type, response_type)})` registers a generic
    handler for the service, using the client package's proto-plus types to (de)serialize,
    and returns the port. Servers stop when the test ends.
    """
    import grpc

    servers = []

    def start(service: str, methods: dict) -> int:
        handler = grpc.method_handlers_generic_handler(
            service,
            {
                name: grpc.unary_unary_rpc_method_handler(
                    fn, request_deserializer=request.deserialize, response_serializer=response.serialize
                )
                for name, (fn, request, response) in methods.items()
            },
        )
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((handler,))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.stop(None)
