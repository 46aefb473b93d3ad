"""The scenario's workload: the load at the entry, open (a rate) or closed (users who think), its
growth, its shape over a day and a week, and the client's retries (contract section 1).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from model.scenario.strict_model import GraphError, Strict


class GrowthFit(Strict):
    """Extension (issue 12): the fit's estimate of the monthly growth and its 90% interval.

    Growth is "fitted" while `workload.growth_pct_per_month` still equals `pct_per_month`; a file
    edited to another growth keeps the record of the fit but says its growth is given."""

    pct_per_month: float = Field(gt=-100)
    low_pct: float = Field(gt=-100)  # the 90% interval, percent per month
    high_pct: float = Field(gt=-100)
    days: int = Field(default=0, ge=0)  # days of traffic the trend was fitted on

    @model_validator(mode="after")
    def _ordered(self) -> "GrowthFit":
        if not self.low_pct <= self.high_pct:
            raise ValueError(f"low_pct ({self.low_pct:g}) is above high_pct ({self.high_pct:g})")
        return self


class Retries(Strict):
    """Extension (issue 18): the client sends a request again when it times out (the entry's
    `timeout_ms`) or is refused, up to `attempts` more times, waiting `backoff_ms` doubled each time;
    with `jitter` the wait is drawn uniformly between 0 and that (full jitter), so clients spread out.
    Retries are extra arrivals: the work of an abandoned attempt is still done (model/queueing/retry_load.py)."""

    attempts: int = Field(ge=0, le=10)  # sends after the first; 0 sends once (as without retries)
    backoff_ms: float = Field(default=100.0, ge=0, le=86_400_000)
    jitter: bool = True


class Workload(Strict):
    rate_rps: float | None = Field(default=None, gt=0)  # open: requests arrive at this rate
    # Extension (issue 18): a closed workload, `users` each sending a request, waiting for the answer,
    # then thinking for an exponential time of mean `think_ms`; exclusive with rate_rps.
    users: int | None = Field(default=None, ge=1)
    think_ms: float | None = Field(default=None, ge=0)
    arrivals: Literal["poisson", "deterministic", "trace"] = "poisson"
    trace: str | None = None
    growth_pct_per_month: float = Field(default=0.0, gt=-100)
    horizon_months: int = Field(default=12, ge=1, le=120)
    # Extension: time every request spends outside the modelled stations (network, accept, client),
    # a constant added to its end-to-end latency.
    network_ms: float = Field(default=0.0, ge=0)
    # Extension (issue 13): the busiest load the observed data holds (the fit writes its busiest
    # hour); recommend never sizes below what it needs.
    observed_peak_rps: float | None = Field(default=None, gt=0)
    # Extension (issue 12): the traffic's shape over a day and a week, as fractions of the peak
    # (`rate_rps`): 24 hourly values (UTC), 7 daily ones (Monday..Sunday). They set how many replicas
    # an HPA runs hour by hour and how many requests a month serves (model/planning/bill.py).
    daily_profile: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None, min_length=24, max_length=24
    )
    weekly_profile: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None, min_length=7, max_length=7
    )
    # Extension (issue 12): how the fit estimated growth_pct_per_month (its 90% interval); written by `fit`.
    growth_fit: GrowthFit | None = None
    # Extension (issue 12): the calendar month the forecast's month 0 is (YYYY-MM); default: this month.
    start_month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")

    @property
    def closed(self) -> bool:
        """A closed workload (users who wait for their answers) rather than an open arrival rate."""
        return self.users is not None

    @model_validator(mode="after")
    def _open_or_closed(self) -> "Workload":
        # GraphError carries the offending key's full path, so the message points at its line.
        if self.rate_rps is None and self.users is None:
            raise GraphError(
                ("workload", "rate_rps"),
                "is required: give rate_rps (an open workload) or users (a closed one)",
            )
        if self.rate_rps is not None and self.users is not None:
            raise GraphError(
                ("workload", "users"),
                "rate_rps and users are exclusive: a workload is open (rate_rps) or closed (users), not both",
            )
        if self.users is None and self.think_ms is not None:
            raise GraphError(
                ("workload", "think_ms"),
                "is the think time of a closed workload: it needs users, not rate_rps",
            )
        if self.users is not None and self.arrivals != "poisson":
            raise GraphError(
                ("workload", "arrivals"),
                f"{self.arrivals} describes an open workload; a closed one (users) has its users' think_ms",
            )
        return self

    @property
    def think_time_ms(self) -> float:
        """A closed workload's mean think time (0 unless given)."""
        return self.think_ms or 0.0

    # Extension (issue 18): client retries of timed-out or refused requests; None: no client retries.
    retries: Retries | None = None

    @model_validator(mode="after")
    def _trace_given(self) -> "Workload":
        if self.arrivals == "trace" and not self.trace:
            raise ValueError("arrivals: trace needs trace: a CSV of timestamp,rate_rps")
        for key, what in (("daily_profile", "hour"), ("weekly_profile", "day")):
            values = getattr(self, key)
            if values is not None and abs(max(values) - 1.0) > 1e-6:
                raise ValueError(
                    f"{key}: the busiest {what} runs at the peak (rate_rps), so its largest value must be 1 "
                    f"(got {max(values):g})"
                )
        return self
