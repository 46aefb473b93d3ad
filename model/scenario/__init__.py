"""The scenario: schema (pydantic, strict), the call graph's visit ratios, traces, YAML key lines, and
the reader that turns a file into a validated Scenario.

Imports nothing else from the project, except `reader.py`, which sits one layer up: it checks
prices (model.pricing) when it loads a file, so an unknown instance type is refused with its line.
"""
