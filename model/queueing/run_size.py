"""How many requests a simulation measures: the one place run sizes are set.

A single steady-state answer (the CLI's `simulate`, the app's confirmation) measures more requests
than each of the many runs a planning question makes (forecast months, recommendation checks, sweep
points, failure what-ifs), where the count is multiplied by the number of runs.
"""

SIM_REQUESTS = 50_000  # one steady-state simulation: `simulate`, the app's "confirm by simulation"
PLANNING_REQUESTS = 20_000  # each run of a forecast, recommend, sweep or failure what-if
PEAK_REQUESTS = 60_000  # at most, in a peak event: the top of the ramp and the HPA catching up
