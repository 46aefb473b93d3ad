"""The CloudWatch metrics a capacity plan cares about, per namespace.

Discovery lists these namespaces; the catalog says which statistic suits each metric, which
fit-file key it most likely fills, and its unit (GetMetricData does not return units).
"""

from __future__ import annotations

from typing import NamedTuple


class Known(NamedTuple):
    stat: str
    key: str
    unit: str


CATALOG: dict[str, dict[str, Known]] = {
    "AWS/ApplicationELB": {
        "RequestCount": Known("Sum", "traffic", "Count"),
        "TargetResponseTime": Known("p99", "latency", "Seconds"),
        "HTTPCode_Target_5XX_Count": Known("Sum", "errors", "Count"),
    },
    "AWS/ELB": {
        "RequestCount": Known("Sum", "traffic", "Count"),
        "Latency": Known("Average", "latency", "Seconds"),
    },
    "AWS/EC2": {
        "CPUUtilization": Known("Average", "cpu", "Percent"),
        "NetworkIn": Known("Sum", "", "Bytes"),
    },
    "AWS/ECS": {
        "CPUUtilization": Known("Average", "cpu", "Percent"),
        "MemoryUtilization": Known("Average", "", "Percent"),
    },
    "ContainerInsights": {
        "pod_cpu_utilization": Known("Average", "cpu", "Percent"),
        "node_cpu_utilization": Known("Average", "cpu", "Percent"),
        "service_number_of_running_pods": Known("Average", "", "Count"),
    },
    "AWS/RDS": {
        "CPUUtilization": Known("Average", "cpu", "Percent"),
        "ReadIOPS": Known("Average", "reads", "Count/Second"),
        "WriteIOPS": Known("Average", "writes", "Count/Second"),
        "ReadLatency": Known("Average", "latency", "Seconds"),
        "WriteLatency": Known("Average", "latency", "Seconds"),
    },
    "AWS/ElastiCache": {
        "CPUUtilization": Known("Average", "cpu", "Percent"),
        "EngineCPUUtilization": Known("Average", "cpu", "Percent"),
        "CacheHits": Known("Sum", "hits", "Count"),
        "CacheMisses": Known("Sum", "misses", "Count"),
    },
    "AWS/Kafka": {
        "CpuUser": Known("Average", "cpu", "Percent"),
        "MessagesInPerSec": Known("Average", "messages_in", "Count/Second"),
        "SumOffsetLag": Known("Maximum", "lag", "Count"),
    },
}
NAMESPACES = tuple(CATALOG)


def known(namespace: str, name: str) -> Known | None:
    return CATALOG.get(namespace, {}).get(name)


def unit_of(namespace: str, name: str) -> str:
    """CloudWatch's own unit name, or "None" (CloudWatch's word for no unit) when unknown."""
    entry = known(namespace, name)
    if entry:
        return entry.unit
    return "Percent" if "Utilization" in name or "utilization" in name else "None"
