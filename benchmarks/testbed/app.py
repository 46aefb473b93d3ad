"""The service under test: a small WSGI app (gunicorn sync workers) in front of Redis and PostgreSQL.

Per request: a fixed amount of Python work (`TESTBED_WORK_ITERS` loop turns, a few ms), then
a cache-aside read. With probability `TESTBED_HIT_RATIO` the key comes from a hot set that
is always in Redis (a hit); otherwise from a key space too large to repeat, so Redis misses,
PostgreSQL runs a join and aggregate, and the answer is written back to Redis with a short
TTL (memory stays bounded). With probability `TESTBED_WRITE_RATIO` the request also INSERTs
an order. The response headers say what happened (`X-Cache: hit|miss`, `X-Write: 0|1`),
which is how the load generator counts hits, misses, reads and writes per period: the
service's own access log, as a real service would export them.
"""

from __future__ import annotations

import os
import random

HOT_KEYS = 1000  # keys warmed into Redis before a run (see services.seed_data)
ITEMS = 20_000  # rows in items; orders has ORDERS_PER_ITEM times as many
ORDERS_PER_ITEM = 10
MISS_SPACE = 10**9  # miss keys are drawn from here, so a miss key practically never repeats
MISS_TTL_S = 30

QUERY = """
SELECT i.category, count(*), sum(o.qty * i.price)
FROM orders o JOIN items i ON i.id = o.item_id
WHERE o.item_id BETWEEN %s AND %s + 40
GROUP BY i.category
"""
INSERT = "INSERT INTO orders (item_id, qty) VALUES (%s, %s)"

_conn = {}


def _clients():
    """One PostgreSQL and one Redis connection per worker process, made after the fork."""
    if "pg" not in _conn:
        import psycopg
        import redis

        _conn["pg"] = psycopg.connect(os.environ["TESTBED_PG_DSN"], autocommit=True)
        _conn["redis"] = redis.Redis(host="127.0.0.1", port=int(os.environ["TESTBED_REDIS_PORT"]))
    return _conn["pg"], _conn["redis"]


def busy_work(iters: int) -> int:
    """Pure-Python CPU work of a fixed size (not a fixed time: a loaded core makes it slower, as it would)."""
    acc = 0
    for i in range(iters):
        acc = (acc * 31 + i) % 1_000_003
    return acc


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/health":
        _clients()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    pg, cache = _clients()
    hit_ratio = float(os.environ.get("TESTBED_HIT_RATIO", "0.75"))
    write_ratio = float(os.environ.get("TESTBED_WRITE_RATIO", "0.1"))
    busy_work(int(os.environ.get("TESTBED_WORK_ITERS", "20000")))
    rnd = random.random
    if rnd() < hit_ratio:
        key = f"item:hot:{random.randrange(HOT_KEYS)}"
    else:
        key = f"item:cold:{random.randrange(MISS_SPACE)}"
    value = cache.get(key)
    status = "hit"
    if value is None:
        status = "miss"
        item = random.randrange(1, ITEMS - 40)
        rows = pg.execute(QUERY, (item, item)).fetchall()
        value = repr(rows).encode()
        cache.set(key, value, ex=MISS_TTL_S)
    wrote = rnd() < write_ratio
    if wrote:
        pg.execute(INSERT, (random.randrange(1, ITEMS), random.randint(1, 5)))
    body = value[:64]
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(body))),
            ("X-Cache", status),
            ("X-Write", "1" if wrote else "0"),
        ],
    )
    return [body]
