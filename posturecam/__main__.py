import sys

from posturecam.cli import main

sys.exit(main())
