"""`python -m model.pricing.refresh [--provider aws|gcp] [--catalog CSV] [--out CSV]`: see data/PRICES.md."""

import sys

from model.pricing.refresh.aws import main

sys.exit(main())
