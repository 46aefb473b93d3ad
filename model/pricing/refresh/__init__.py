"""Rebuilding data/prices.csv from the providers' price APIs: `python -m model.pricing.refresh`.

`aws.py` (the Price List API) and `gcp.py` (the Cloud Billing Catalog) each write their own rows;
`rows.py` reads and writes the shared file, so neither imports the other. Network scripts: only the
command line and tests import this package.
"""
