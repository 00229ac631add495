"""`python -m core ...`: the command line of RNN Lab's engine."""

import sys

from core.cli import main

sys.exit(main())
