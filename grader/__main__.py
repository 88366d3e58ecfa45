"""`python -m grader`, the same as the `backprop-ninja` command."""

import sys

from grader.cli import main

sys.exit(main())
