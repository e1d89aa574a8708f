import sys

from kpilab.cli import main

sys.exit(main())
