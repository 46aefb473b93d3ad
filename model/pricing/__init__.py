"""Prices: the catalog (data/prices.csv) and a scenario's monthly cost by node.

May import model.scenario (the schema) only. `refresh/` rebuilds the catalog from the providers'
price APIs; nothing in the model imports it.
"""
