"""The analytic solver: `solver.py` (a scenario to Results by queueing theory), `formulas.py` (Erlang C,
Allen-Cunneen, M/M/1/K, Kafka consumers) and `delay_grid.py` (latency distributions on a grid);
`closed.py` solves a closed workload (users) on the solver's composition (model.queueing.evaluate picks
it for one, so an open workload never loads mean-value analysis); `retries.py` (client retries: the
offered load as a fixed point).

May import model.queueing's base modules, model.scenario and model.pricing.
"""
