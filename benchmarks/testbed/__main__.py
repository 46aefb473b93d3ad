import sys

from benchmarks.testbed.run import main

sys.exit(main())
