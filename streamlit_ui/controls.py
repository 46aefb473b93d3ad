"""What-if widgets: each one edits one key path of the scenario, and the change is kept in state.

A widget's key is `wi:<key path>`; its value is seeded from the scenario with the current
changes applied, and on change it records `{key path: value}` (dropped again when it equals
the file's own value). Widgets hold no truth of their own, so leaving the page and coming
back, or opening a shared link, shows the same settings.
"""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from streamlit_ui import state
from model.pricing.catalog import load_catalog
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, ServiceNode


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _widget(make: Callable, label: str, path: str, current: Any, baseline: Any, **kwargs: Any) -> Any:
    key = state.WIDGET_PREFIX + path
    if key not in st.session_state:
        st.session_state[key] = current

    def changed() -> None:
        state.set_change(path, st.session_state[key], baseline)

    return make(label, key=key, on_change=changed, **kwargs)


def instance_types(provider: str, current_type: str, region: str) -> list[str]:
    """Priced types of the same cloud service (EC2, RDS, ElastiCache, MSK, ...) in the region."""
    catalog = load_catalog()
    service = next(
        (s.service for (p, t, _r), s in catalog.rows.items() if p == provider and t == current_type), None
    )
    types = sorted(
        {
            t
            for (p, t, r), s in catalog.rows.items()
            if p == provider and s.service == service and s.unit == "instance-hour" and r == region
        },
        key=lambda t: (catalog.rows.get((provider, t, region)).vcpu, t),
    )
    return types if current_type in types else [current_type] + types


def load_control(current, baseline) -> None:
    base = baseline.workload.rate_rps
    now = current.workload.rate_rps
    key = state.WIDGET_PREFIX + "workload.rate_rps"
    if key not in st.session_state:
        st.session_state[key] = round(now, 3)
    st.slider(
        "Load (requests/s at the entry)",
        min_value=max(1.0, round(base * 0.25, 0)),
        max_value=float(max(round(base * 4, 0), round(now, 0) + 1)),
        step=1.0,
        key=key,
        format="%.0f req/s",
        on_change=lambda: state.set_change("workload.rate_rps", float(st.session_state[key]), base),
        help="Arrivals per second at the entry node. The file says " + f"{base:,.0f}.",
    )
    growth = baseline.workload.growth_pct_per_month
    if growth > 0 and now != base:
        import math

        months = math.log(now / base) / math.log(1 + growth / 100)
        st.caption(
            f"{100 * (now / base - 1):+.0f}% load: about {months:.1f} months of growth at {growth:g}%/month."
            if months > 0
            else f"{100 * (now / base - 1):+.0f}% load."
        )


def retries_control(current, baseline) -> None:
    """Client retries (`workload.retries`): on or off, attempts and first backoff, kept as one change."""
    base = baseline.workload.retries
    now = current.workload.retries
    keys = {k: state.WIDGET_PREFIX + "workload.retries." + k for k in ("on", "attempts", "backoff_ms")}
    seeds = {
        "on": now is not None,
        "attempts": now.attempts if now else 2,
        "backoff_ms": now.backoff_ms if now else 100.0,
    }
    for k, key in keys.items():
        if key not in st.session_state:
            st.session_state[key] = seeds[k]

    def changed() -> None:
        value = None
        if st.session_state[keys["on"]]:
            value = {
                "attempts": int(st.session_state[keys["attempts"]]),
                "backoff_ms": float(st.session_state[keys["backoff_ms"]]),
                "jitter": now.jitter if now else True,
            }
        state.set_change("workload.retries", value, base.model_dump() if base else None)

    st.toggle(
        "Client retries",
        key=keys["on"],
        on_change=changed,
        help="Clients send a timed-out or refused request again after a backoff (doubled each time, with "
        "jitter). Every retry is more load; the server still works on the attempts clients gave up on.",
    )
    if st.session_state[keys["on"]]:
        values = [r for r in (now, base) if r is not None]  # the range holds what the file says
        st.slider(
            "Retries per request",
            0,
            max([5] + [r.attempts for r in values]),
            key=keys["attempts"],
            on_change=changed,
            help="Sends after the first; 0 sends once.",
        )
        st.slider(
            "First backoff",
            0.0,
            float(max([2000.0] + [r.backoff_ms for r in values])),
            step=10.0,
            key=keys["backoff_ms"],
            on_change=changed,
            format="%.0f ms",
            help="The wait before the first retry; each next one waits twice as long.",
        )
        entry = current.nodes[current.entry]
        if not getattr(entry, "timeout_ms", None):
            st.caption(f"{current.entry} has no timeout_ms: only refused requests are retried.")


def node_controls(name: str, node, base_node, pricing) -> None:
    """The knobs that matter for one node's kind."""
    prefix = f"nodes.{name}."
    if isinstance(node, ServiceNode):
        _widget(
            st.slider,
            "Replicas",
            prefix + "replicas",
            node.replicas,
            base_node.replicas,
            min_value=1,
            max_value=max(20, 2 * base_node.replicas, node.replicas),
            help="Pods or instances behind the load balancer.",
        )
        scaling = node.autoscale is not None
        key = state.WIDGET_PREFIX + prefix + "autoscale.on"
        if key not in st.session_state:
            st.session_state[key] = scaling

        def toggled() -> None:
            on = st.session_state[key]
            default = {
                "target_cpu_pct": 70,
                "min": max(1, node.replicas // 2),
                "max": max(2 * node.replicas, 2),
            }
            value = (base_node.autoscale.model_dump() if base_node.autoscale else default) if on else None
            base_value = base_node.autoscale.model_dump() if base_node.autoscale else None
            state.set_change(prefix + "autoscale", value, base_value)

        st.toggle(
            "Autoscaling (HPA)",
            key=key,
            on_change=toggled,
            help="Kubernetes HPA on CPU. Latency and cost below use the replicas above; "
            "the HPA line shows what the autoscaler would hold at this load.",
        )
        if node.autoscale is not None:
            _widget(
                st.slider,
                "HPA target CPU %",
                prefix + "autoscale.target_cpu_pct",
                node.autoscale.target_cpu_pct,
                _get(base_node, "autoscale.target_cpu_pct"),
                min_value=10.0,
                max_value=100.0,
                step=5.0,
                format="%.0f%%",
            )
    elif isinstance(node, CacheNode):
        _widget(
            st.slider,
            "Cache hit ratio",
            prefix + "hit_ratio",
            node.hit_ratio,
            base_node.hit_ratio,
            min_value=0.0,
            max_value=1.0,
            step=0.01,
            format="%.2f",
            help="Fraction of lookups answered by the cache; misses go to " + (node.miss or "nowhere") + ".",
        )
        _widget(
            st.slider,
            "Cache nodes",
            prefix + "nodes",
            node.nodes,
            base_node.nodes,
            min_value=1,
            max_value=max(8, 2 * base_node.nodes, node.nodes),  # a link, Peak event or Right-size change fits
        )
    elif isinstance(node, DatabaseNode):
        _widget(
            st.slider,
            "Read replicas",
            prefix + "read_replicas",
            node.read_replicas,
            base_node.read_replicas,
            min_value=0,
            max_value=max(5, base_node.read_replicas + 3, node.read_replicas),
            help="Reads spread over the primary and its replicas; writes all go to the primary.",
        )
    elif isinstance(node, KafkaNode):
        _widget(
            st.slider,
            "Consumers",
            prefix + "consumers",
            node.consumers,
            base_node.consumers,
            min_value=1,
            max_value=max(node.partitions, base_node.consumers, node.consumers),
            help="More consumers than partitions sit idle.",
        )
    if node.instance is not None and node.instance.type is not None:
        instance_control(name, node, base_node, pricing)


def instance_control(name: str, node, base_node, pricing) -> None:
    """Pick a machine type; a service's or database's cores follow it when the file's cores matched the old type."""
    from model.pricing.catalog import instance_vcpus, resolve_region

    path = f"nodes.{name}.instance.type"
    provider = node.instance.provider or pricing.provider
    choices = instance_types(provider, node.instance.type, resolve_region(provider, pricing.region))
    key = state.WIDGET_PREFIX + path
    if key not in st.session_state:
        st.session_state[key] = node.instance.type
    base_type = base_node.instance.type if base_node.instance else None
    follows = isinstance(node, (ServiceNode, DatabaseNode)) and base_node.cpus in (
        None,
        instance_vcpus(base_node.instance),
    )

    def changed() -> None:
        chosen = st.session_state[key]
        state.set_change(path, chosen, base_type)
        if follows:
            vcpus = instance_vcpus(node.instance.model_copy(update={"type": chosen}))
            if vcpus is not None and vcpus >= 1:
                state.set_change(
                    f"nodes.{name}.cpus",
                    int(vcpus),
                    base_node.cpus if base_node.cpus is not None else instance_vcpus(base_node.instance),
                )

    st.selectbox(
        "Instance type",
        choices,
        key=key,
        on_change=changed,
        format_func=lambda t: _type_label(
            provider, t, resolve_region(provider, pricing.region), pricing.commitment
        ),
        help="From the bundled price catalog (data/prices.csv), same service and region"
        + ("; the node's cores follow the type's vCPUs." if follows else "."),
    )
    spec = load_catalog().rows.get(
        (provider, st.session_state[key], resolve_region(provider, pricing.region))
    )
    if spec is not None:  # the whole line under the select, which is too narrow for it
        st.caption(
            f"{spec.vcpu:g} vCPU, {spec.memory_gib:g} GiB, ${spec.hourly[pricing.commitment]:.3f} an hour "
            f"({pricing.commitment.replace('_', ' ')})"
        )


def _type_label(provider: str, type_: str, region: str, commitment: str) -> str:
    spec = load_catalog().rows.get((provider, type_, region))
    if spec is None:
        return f"{type_} · not in the price catalog (estimated or unknown price)"
    return f"{type_} · {spec.vcpu:g} vCPU · ${spec.hourly[commitment]:.2f}/h"  # short: the select is a third of the page
