"""`python -m posturecam`: the same command line as `posturecam`."""

import sys

from posturecam.cli import main

sys.exit(main())
