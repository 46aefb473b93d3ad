"""The Cloud Monitoring metric types a capacity plan cares about, with how to query each.

Counters need ALIGN_RATE (per second) or ALIGN_DELTA (per period); gauges ALIGN_MEAN;
distributions such as load-balancer latencies ALIGN_PERCENTILE_99.
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
    "loadbalancing.googleapis.com/https/request_count": Known("ALIGN_DELTA", "REDUCE_SUM", "traffic"),
    "loadbalancing.googleapis.com/https/total_latencies": Known("ALIGN_PERCENTILE_99", "REDUCE_MAX", "latency"),
    "redis.googleapis.com/stats/cpu_utilization": Known("ALIGN_RATE", "REDUCE_SUM", "cpu"),
    "redis.googleapis.com/stats/keyspace_hits": Known("ALIGN_DELTA", "REDUCE_SUM", "hits"),
    "redis.googleapis.com/stats/keyspace_misses": Known("ALIGN_DELTA", "REDUCE_SUM", "misses"),
    "redis.googleapis.com/stats/cache_hit_ratio": Known("ALIGN_MEAN", "REDUCE_MEAN", ""),
    "pubsub.googleapis.com/topic/send_message_operation_count": Known("ALIGN_DELTA", "REDUCE_SUM", "messages_in"),
    "managedkafka.googleapis.com/message_in_count": Known("ALIGN_DELTA", "REDUCE_SUM", "messages_in"),
    "managedkafka.googleapis.com/offset_lag": Known("ALIGN_MAX", "REDUCE_MAX", "lag"),
}
PREFIXES = ("compute.googleapis.com/", "kubernetes.io/container/", "cloudsql.googleapis.com/",
            "loadbalancing.googleapis.com/https/", "redis.googleapis.com/", "pubsub.googleapis.com/",
            "managedkafka.googleapis.com/")
