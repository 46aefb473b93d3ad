"""The strict reader gives the same answer with libyaml and with PyYAML's pure-Python parser.

libyaml is what PyYAML's wheels carry and what the reader uses (five to ten times faster); the
pure-Python parser is the fallback where PyYAML was built without it. Bounds, lines and data must
not depend on which one a machine has."""

from __future__ import annotations

import pytest
import yaml

from model.scenario import strict_yaml
from model.scenario.reader import ScenarioError, scenario_from_text
from model.scenario.yaml_lines import line_of

SCENARIO = """version: 1
name: small
workload: {rate_rps: 10}
entry: web
nodes:
  web:
    kind: service
    replicas: 2
    service_ms: 5
    calls:
      - {to: db, visits: 1.5}
  db: {kind: database, read_ms: 2}
"""
LOADERS = [pytest.param(yaml.SafeLoader, id="pure-python")]
if getattr(yaml, "CSafeLoader", None) is not None:
    LOADERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))


def test_the_reader_uses_libyaml_where_pyyaml_has_it():
    assert strict_yaml.SAFE_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refusal(text: str) -> str:
    with pytest.raises(ScenarioError) as err:
        scenario_from_text(text, "s.yaml")
    return str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: &x [1, 2]\nc: *x\n",  # an alias, refused at its line
        "version: 1\nname: " + "[" * 200 + "]" * 200 + "\n",  # too deep
        "version: 1\nnodes:\n  web: {a: [" + ", ".join(["1"] * 30_000) + "]}\n",  # too many values
        "version: 1\nname: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
    ],
    ids=["alias", "depth", "values", "depth-at-a-value"],
)
def test_bounds_are_the_same_with_either_parser(text, monkeypatch):
    messages = set()
    for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        monkeypatch.setattr(strict_yaml, "SAFE_LOADER", loader)
        messages.add(_refusal(text))
    assert len(messages) == 1, messages


def test_the_depth_bound_counts_a_value_inside_its_collections(monkeypatch):
    """A scalar at depth d + 1 inside d collections crosses a bound of d: the composer's count."""
    monkeypatch.setenv("HEADROOM_MAX_YAML_DEPTH", "3")
    assert "nested deeper than the limit of 3" in _refusal("a:\n  b:\n    c: 1\n")  # map, map, map, scalar
    data, _ = strict_yaml.parse("a:\n  b: 1\n", "s.yaml", strict_yaml.StrictYamlError)  # three levels: fine
    assert data == {"a": {"b": 1}}


@pytest.mark.parametrize("loader", LOADERS)
def test_data_and_lines_are_the_same_with_either_parser(loader, monkeypatch):
    monkeypatch.setattr(strict_yaml, "SAFE_LOADER", loader)
    data, tree = strict_yaml.parse(SCENARIO, "s.yaml", strict_yaml.StrictYamlError)
    assert data["nodes"]["web"]["calls"][0] == {"to": "db", "visits": 1.5}
    assert line_of(tree, ("nodes", "web", "calls", 0, "visits")) == 11
    assert line_of(tree, ("nodes", "db", "read_ms")) == 12


@pytest.mark.parametrize("loader", LOADERS)
def test_a_syntax_error_names_its_line_with_either_parser(loader, monkeypatch):
    monkeypatch.setattr(strict_yaml, "SAFE_LOADER", loader)
    message = _refusal("version: 1\nname: x\n  entry: web\n")
    assert "not valid YAML" in message and "(line 3)" in message
