"""`python -m grader`, the same as the `backprop-ninja` command."""

import sys

from grader.frontends.cli import main

sys.exit(main())
