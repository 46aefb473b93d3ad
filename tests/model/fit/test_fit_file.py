"""The fit file's schema (contract section 3) and its one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model.fit.file import (
    CloudWatchFitFile,
    DemoFitFile,
    FitFileError,
    FitNode,
    fit_file_from_text,
    load_fit_file,
)
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, ServiceNode

ROOT = Path(__file__).resolve().parents[3]
CONTRACT_EXAMPLE = """\
version: 1
source: cloudwatch
region: us-east-1
project: my-project
lookback_days: 14
period_s: 300
traffic:
  metric: {namespace: AWS/ApplicationELB, name: RequestCount, stat: Sum,
           dimensions: {LoadBalancer: app/shop/50dc6c495c0c9188}}
latency:
  metric: {namespace: AWS/ApplicationELB, name: TargetResponseTime, stat: p99,
           dimensions: {LoadBalancer: app/shop/50dc6c495c0c9188}}
entry: web
nodes:
  web:
    kind: service
    replicas: 4
    instance: {provider: aws, type: m6i.large}
    cpu: {namespace: AWS/ECS, name: CPUUtilization, stat: Average,
          dimensions: {ClusterName: shop, ServiceName: web}}
    calls: [{to: db, visits: 1.0}]
  db:
    kind: database
    instance: {provider: aws, type: db.r6g.xlarge}
    cpu: {namespace: AWS/RDS, name: CPUUtilization, stat: Average,
          dimensions: {DBInstanceIdentifier: shop-db}}
"""


def test_contract_example_is_accepted():
    fit = fit_file_from_text(CONTRACT_EXAMPLE, "fit.yaml")
    assert isinstance(fit, CloudWatchFitFile)
    assert list(fit.series()) == ["traffic", "latency", "nodes.web.cpu", "nodes.db.cpu"]
    assert fit.latency.metric.is_percentile and fit.nodes["web"].replicas == 4


@pytest.mark.parametrize(
    "old, new, where, words",
    [
        (
            "stat: Average,\n          dimensions: {Cl",
            "stat: Avg,\n          dimensions: {Cl",
            "nodes.web.cpu.stat (line 19)",
            "unknown statistic 'Avg'",
        ),
        (
            "name: CPUUtilization, stat: Average,\n          dimensions: {Cl",
            "nme: CPUUtilization, stat: Average,\n          dimensions: {Cl",
            "nodes.web.cpu.nme (line 19)",
            "unknown key",
        ),
        (
            "    replicas: 4",
            "    hit_ratio: 0.5",
            "nodes.web.hit_ratio (line 17)",
            "not a key of a service node",
        ),
        (
            "    replicas: 4",
            "    hits: {namespace: a, name: b}",
            "nodes.web.hits (line 17)",
            "not a metric of a service node",
        ),
        ("    replicas: 4", "    replicas: 0", "nodes.web.replicas (line 17)", "greater than or equal to 1"),
        (
            "    replicas: 4",
            "    replicas: {namespace: ECS/ContainerInsights, nme: RunningTaskCount}",
            "nodes.web.replicas.nme (line 17)",
            "unknown key",
        ),
        (
            "    kind: database\n",
            "    kind: database\n    replicas: {namespace: ECS/ContainerInsights, name: RunningTaskCount}\n",
            "nodes.db.replicas (line 24)",
            "is not a metric of a database node",
        ),
        (
            "    kind: database\n",
            "    kind: database\n    replicas: 2\n",
            "nodes.db.replicas (line 24)",
            "is not a key of a database node",
        ),
        ("entry: web", "entry: api", "entry (line 13)", "'api' is not in nodes"),
        ("to: db", "to: cache", "nodes.web.calls.0.to (line 21)", "'cache', which is not in nodes"),
        ("period_s: 300", "period_s: 90", "period_s (line 6)", "multiple of 60"),
        ("source: cloudwatch", "source: datadog", "source (line 2)", "unknown source 'datadog'"),
        ("version: 1", "version: 2", "version (line 1)", "Input should be 1"),
    ],
)
def test_errors_name_file_key_path_and_line(old, new, where, words):
    assert old in CONTRACT_EXAMPLE
    with pytest.raises(FitFileError) as info:
        fit_file_from_text(CONTRACT_EXAMPLE.replace(old, new, 1), "fit.yaml")
    text = str(info.value)
    assert text.startswith(f"fit.yaml: {where}: ") and words in text and "\n" not in text


def test_replicas_is_a_count_or_a_running_replicas_metric():
    metric = (
        "    replicas: {namespace: ECS/ContainerInsights, name: RunningTaskCount, stat: Average,\n"
        "               dimensions: {ClusterName: shop, ServiceName: web}}"
    )
    fit = fit_file_from_text(CONTRACT_EXAMPLE.replace("    replicas: 4", metric), "fit.yaml")
    web = fit.nodes["web"]
    assert web.replicas_metric and web.replicas.name == "RunningTaskCount"
    assert list(fit.series()) == ["traffic", "latency", "nodes.web.cpu", "nodes.web.replicas", "nodes.db.cpu"]
    counted = fit_file_from_text(CONTRACT_EXAMPLE, "fit.yaml").nodes["web"]
    assert counted.replicas == 4 and not counted.replicas_metric and "replicas" not in counted.metrics()

    text = CONTRACT_EXAMPLE.replace("source: cloudwatch", "source: gcp")
    with pytest.raises(FitFileError, match=r"traffic\.metric\.(namespace|type)"):
        fit_file_from_text(text, "fit.yaml")


def test_every_scenario_node_key_is_accepted():
    """If the scenario grows a node key, the fit file must accept it too."""
    for model in (ServiceNode, CacheNode, DatabaseNode, KafkaNode):
        missing = set(model.model_fields) - set(FitNode.model_fields)
        assert not missing, f"{model.__name__} keys the fit file refuses: {missing}"


def test_source_defaults_to_demo_and_missing_file_is_clear(tmp_path):
    fit = fit_file_from_text(
        "version: 1\ntraffic: {metric: {series: traffic}}\nentry: web\nnodes: {web: {kind: service}}\n"
    )
    assert isinstance(fit, DemoFitFile)
    with pytest.raises(FitFileError, match=re.escape(f"{tmp_path / 'nope.yaml'}: no such file")):
        load_fit_file(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nnodes: [\n")
    with pytest.raises(FitFileError, match=r"bad.yaml.*not valid YAML"):
        load_fit_file(bad)


@pytest.mark.parametrize("name", ["fit-demo.yaml", "fit-csv-nab.yaml", "fit-demo-autoscale.yaml"])
def test_shipped_fit_files_load(name):
    fit = load_fit_file(ROOT / "scenarios" / name)
    assert fit.series()
