"""The fit file (contract section 3): which observed metrics describe which node.

The schema is strict (unknown keys are refused) for the same reason the scenario is: a
misspelt key that silently falls back to a default gives a plausible but wrong fit. A
metric's shape depends on the source (a CloudWatch metric has a namespace, a GCP metric a
type), so there is one fit-file class per source, chosen by `source:` (default `demo`).
Node entries are permissive the other way round: every scenario node key may be given,
and the fit estimates what is left out. The file's parts (nodes, traffic, phases, hosts) are
`file_parts.py`; here the file itself, a class per source, and its loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Generic, Literal, Union

import yaml
from pydantic import (
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from model.scenario.limits import clip
from model.scenario.strict_yaml import (
    StrictYamlError,
    describe,
    display_name,
    find_yes_no,
    parse,
    pick_error,
    read_text_file,
)
from model.scenario.yaml_lines import line_of

from model.fit.file_parts import (
    METRIC_KEYS,
    UNION_TAGS,
    FitHost,
    FitKeyError,
    FitNode,
    M,
    Observed,
    Phase,
    Traffic,
)

from connectors.registry import DEFAULT_SOURCE, SOURCES as REGISTRY, SourceInfo

# the metric specs are the sources' own (connectors.specs); named here too for the fit's readers
from connectors.specs import (
    CloudWatchMetric,  # noqa: F401
    CsvMetric,  # noqa: F401
    DemoMetric,  # noqa: F401
    DemoOptions,  # noqa: F401
    GcpMetric,  # noqa: F401
    KeyPathError,
    PrometheusMetric,  # noqa: F401
    SECRET_HEADERS,
    Strict,
)

SOURCES = tuple(REGISTRY)  # the `source:` names, from the one registry of sources


# ---------------------------------------------------------------- the file


class FitFile(Strict, Generic[M]):
    """What every fit file has, whatever its source."""

    version: Literal[1]
    region: str | None = None  # cloudwatch; default: the AWS chain (AWS_REGION, profile)
    project: str | None = None  # gcp; default: the application-default credentials' project
    url: str | None = Field(default=None, min_length=1)  # prometheus; default: PROMETHEUS_URL
    headers: dict[str, str] = Field(
        default_factory=dict, max_length=20
    )  # prometheus: e.g. X-Scope-OrgID (Mimir)
    lookback_days: int = Field(default=14, ge=1, le=455)
    period_s: int = Field(default=300, ge=1)
    # Extension (issue 11): `load_test` for a load test's minutes (steady phases, no days, no
    # growth); `auto` (default) picks it when the window is under a day or phases are listed.
    mode: Literal["auto", "history", "load_test"] = "auto"
    phases: list[Phase] | None = None
    traffic: Traffic[M]
    latency: Observed[M] | None = None
    entry: str
    nodes: dict[str, FitNode[M]] = Field(min_length=1)
    hosts: dict[str, FitHost[M]] | None = None
    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("headers")
    @classmethod
    def _no_credentials(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if name.lower() in SECRET_HEADERS:
                raise ValueError(
                    f"{name} is a credential: set PROMETHEUS_BEARER_TOKEN (or PROMETHEUS_USERNAME and "
                    "PROMETHEUS_PASSWORD) in the environment instead of writing it in the file"
                )
        return headers

    @model_validator(mode="after")
    def _period(self) -> "FitFile":
        # Monitoring APIs aggregate in whole minutes; a CSV (a load test's samples) may be finer.
        if self.period_s % 60 and getattr(self, "source", None) != "csv":
            raise FitKeyError(
                ("period_s",),
                f"must be a multiple of 60 seconds for this source (got {self.period_s}); "
                "periods down to 1 s are for source: csv",
            )
        return self

    @model_validator(mode="after")
    def _graph_names(self) -> "FitFile":
        names = ", ".join(sorted(self.nodes))
        if self.entry not in self.nodes:
            raise FitKeyError(("entry",), f"entry node {self.entry!r} is not in nodes ({names})")
        for name, node in self.nodes.items():
            for i, call in enumerate(node.calls or []):
                if call.to not in self.nodes:
                    raise FitKeyError(
                        ("nodes", name, "calls", i, "to"),
                        f"calls {call.to!r}, which is not in nodes ({names})",
                    )
            if node.miss is not None and node.miss not in self.nodes:
                raise FitKeyError(
                    ("nodes", name, "miss"), f"miss goes to {node.miss!r}, which is not in nodes ({names})"
                )
            if node.host is not None and node.host not in (self.hosts or {}):
                hosts = ", ".join(sorted(self.hosts or {})) or "none given"
                raise FitKeyError(("nodes", name, "host"), f"host {node.host!r} is not in hosts ({hosts})")
        for name in self.hosts or {}:
            if not any(n.host == name for n in self.nodes.values()):
                raise FitKeyError(
                    ("hosts", name), "no node is placed on this host (add host: NAME to its nodes)"
                )
        return self

    def series(self) -> dict[str, M]:
        """Every metric the file names, by series id (`traffic`, `latency`, `nodes.web.cpu`)."""
        out: dict[str, M] = {"traffic": self.traffic.metric}
        if self.latency is not None:
            out["latency"] = self.latency.metric
            for stat, metric in self.latency.stats.items():
                out[f"latency.{stat}"] = metric
        for name, host in (self.hosts or {}).items():
            if host.cpu is not None:
                out[f"hosts.{name}.cpu"] = host.cpu
        for name, node in self.nodes.items():
            for key, metric in node.metrics().items():
                out[f"nodes.{name}.{key}"] = metric
        return out


def _fit_file_class(info: SourceInfo) -> type[FitFile]:
    """FitFile[the source's spec] with `source: <name>` (the union's tag) and the source's own block, if any."""
    fields: dict = {"source": (Literal[info.name], info.name if info.name == DEFAULT_SOURCE else ...)}
    if info.options:
        key, options = info.options
        fields[key] = (options, Field(default_factory=options))
    name = info.spec.__name__.removesuffix("Metric") + "FitFile"
    return create_model(name, __base__=FitFile[info.spec], __module__=__name__, **fields)


FIT_FILES: dict[str, type[FitFile]] = {name: _fit_file_class(info) for name, info in REGISTRY.items()}
# the built-in sources' classes by name, for isinstance checks
CloudWatchFitFile, GcpFitFile, CsvFitFile, DemoFitFile, PrometheusFitFile = (
    FIT_FILES[n] for n in ("cloudwatch", "gcp", "csv", "demo", "prometheus")
)
AnyFitFile = Annotated[Union[tuple(FIT_FILES.values())], Field(discriminator="source")]  # noqa: UP007
_ADAPTER: TypeAdapter = TypeAdapter(AnyFitFile)


# ---------------------------------------------------------------- loading


class FitFileError(StrictYamlError):
    """An invalid fit file, ready to print as one line: `fit.yaml: nodes.web.cpu.stat (line 12): ...`."""


def load_fit_file(path: str | Path) -> FitFile:
    """Read and validate a fit file, or raise FitFileError naming the file, key path and line."""
    name = display_name(path)
    fit = fit_file_from_text(read_text_file(path, name, FitFileError, "fit file"), name)
    fit._base_dir = Path(path).resolve().parent
    return fit


def fit_file_from_text(text: str, name: str = "fit file") -> FitFile:
    data, tree = parse(text, name, FitFileError)
    if not isinstance(data, dict):
        raise FitFileError(
            name,
            "",
            1 if data is not None else None,
            "must be a mapping of keys (version, source, traffic, entry, nodes)",
        )
    data.setdefault("source", "demo")
    if data["source"] not in SOURCES:
        raise FitFileError(
            name,
            "source",
            line_of(tree, ("source",)),
            f"unknown source {clip(repr(data['source']), 60)}; use one of: {', '.join(SOURCES)}",
        )
    yes_no = find_yes_no(data)
    if yes_no:
        raise FitFileError(
            name,
            ".".join(map(str, yes_no)),
            line_of(tree, yes_no),
            "must be a number or text, not true or false",
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        loc, message = _first_error(exc, data)
        raise FitFileError(name, ".".join(str(p) for p in loc), line_of(tree, loc), message) from None


def load_fit_file_as(fit_file: FitFile | str | Path, source: str | None = None) -> FitFile:
    """The fit file (a path or one already loaded), with `source:` replaced when `source` names another.

    `--source` lets one mapping be tried against another source; the file is re-validated, since
    a metric spec that suits one source does not suit another.
    """
    if isinstance(fit_file, FitFile):
        if not source or source == fit_file.source:  # type: ignore[attr-defined]
            return fit_file
        data = fit_file.model_dump(mode="json", exclude_none=True)
        data["source"] = source
        fit = fit_file_from_text(yaml.safe_dump(data, sort_keys=False), f"fit file (with --source {source})")
        fit._base_dir = fit_file._base_dir
        return fit
    if not source:
        return load_fit_file(fit_file)
    try:
        data = parse(read_text_file(fit_file, str(fit_file), FitFileError), str(fit_file), FitFileError)[0]
    except FitFileError:
        return load_fit_file(fit_file)  # the loader says what is wrong with the file
    if not isinstance(data, dict):
        return load_fit_file(fit_file)
    data["source"] = source
    fit = fit_file_from_text(yaml.safe_dump(data, sort_keys=False), f"{fit_file} (with --source {source})")
    fit._base_dir = Path(fit_file).resolve().parent
    return fit


def base_dir(fit: FitFile) -> Path:
    """Where relative paths in the file (CSV files, the demo scenario) are resolved from."""
    return fit._base_dir or Path.cwd()


def _first_error(exc: ValidationError, data: dict) -> tuple[tuple, str]:
    err = pick_error(exc)
    loc = tuple(err["loc"])
    if loc and loc[0] == data.get("source"):
        loc = loc[1:]  # the discriminator tag pydantic puts first
    if len(loc) >= 4 and loc[0] == "nodes" and loc[2] == "replicas" and loc[3] in UNION_TAGS:
        loc = loc[:3] + loc[4:]  # which form of `replicas` (a count or a metric) was read
    ctx = err.get("ctx") or {}
    if isinstance(ctx.get("error"), KeyPathError):  # FitKeyError, or a source spec's own
        key_error = ctx["error"]
        return loc + key_error.path, key_error.message
    hint = " (a metric for this source has other keys)" if "metric" in loc or _under_metric(loc) else ""
    return loc, describe(err, f"unknown key{hint}; check its spelling against docs/connectors.md")


def _under_metric(loc: tuple) -> bool:
    metric_keys = {k for keys in METRIC_KEYS.values() for k in keys}
    return len(loc) >= 4 and loc[0] == "nodes" and loc[2] in metric_keys
