"""The Cloud Monitoring metric types a capacity plan cares about, with how to query each.

Gauges ALIGN_MEAN; distributions such as load-balancer latencies ALIGN_PERCENTILE_99.
Counters: the API documents ALIGN_DELTA and ALIGN_RATE as interpolating periods that had
no data, so a gap (an outage, a scrape that stopped) would come back filled in. A DELTA
counter therefore uses ALIGN_SUM (the count in each period; a period with no data has no
point, so gaps stay gaps). ALIGN_SUM is not valid on a CUMULATIVE counter: those keep
ALIGN_RATE / ALIGN_DELTA, the only aligners the API offers them, and docs/connectors.md
says their gaps may be interpolated. Discovery picks by the descriptor's real metric kind
(`aligner_for`), so a catalog guess about a kind never reaches a request.
"""

from __future__ import annotations

from typing import NamedTuple


class Known(NamedTuple):
    aligner: str
    reducer: str
    key: str


CATALOG: dict[str, Known] = {
    "compute.googleapis.com/instance/cpu/utilization": Known("ALIGN_MEAN", "REDUCE_MEAN", "cpu"),
    "kubernetes.io/container/cpu/core_usage_time": Known("ALIGN_RATE", "REDUCE_SUM", "cpu"),
    "kubernetes.io/container/cpu/limit_utilization": Known("ALIGN_MEAN", "REDUCE_MEAN", "cpu"),
    "cloudsql.googleapis.com/database/cpu/utilization": Known("ALIGN_MEAN", "REDUCE_MEAN", "cpu"),
    "loadbalancing.googleapis.com/https/request_count": Known("ALIGN_SUM", "REDUCE_SUM", "traffic"),
    "loadbalancing.googleapis.com/https/total_latencies": Known(
        "ALIGN_PERCENTILE_99", "REDUCE_MAX", "latency"
    ),
    "redis.googleapis.com/stats/cpu_utilization": Known("ALIGN_RATE", "REDUCE_SUM", "cpu"),
    "redis.googleapis.com/stats/keyspace_hits": Known("ALIGN_DELTA", "REDUCE_SUM", "hits"),
    "redis.googleapis.com/stats/keyspace_misses": Known("ALIGN_DELTA", "REDUCE_SUM", "misses"),
    "redis.googleapis.com/stats/cache_hit_ratio": Known("ALIGN_MEAN", "REDUCE_MEAN", ""),
    "pubsub.googleapis.com/topic/send_message_operation_count": Known(
        "ALIGN_SUM", "REDUCE_SUM", "messages_in"
    ),
    "managedkafka.googleapis.com/message_in_count": Known("ALIGN_DELTA", "REDUCE_SUM", "messages_in"),
    "managedkafka.googleapis.com/offset_lag": Known("ALIGN_MAX", "REDUCE_MAX", "lag"),
}
PREFIXES = (
    "compute.googleapis.com/",
    "kubernetes.io/container/",
    "cloudsql.googleapis.com/",
    "loadbalancing.googleapis.com/https/",
    "redis.googleapis.com/",
    "pubsub.googleapis.com/",
    "managedkafka.googleapis.com/",
)

DELTA, CUMULATIVE = 2, 3  # google.api.MetricDescriptor.MetricKind values


def aligner_for(known: Known, metric_kind: int) -> str:
    """The catalog's aligner, adjusted to the descriptor's kind: counts per period keep their gaps."""
    if metric_kind == DELTA and known.aligner == "ALIGN_DELTA":
        return "ALIGN_SUM"  # the same count per period, without interpolating periods with no data
    if metric_kind == CUMULATIVE and known.aligner == "ALIGN_SUM":
        return "ALIGN_DELTA"  # ALIGN_SUM is refused on cumulative counters
    return known.aligner
