"""`python -m losstopo ...` (also what torchrun runs) is the `losstopo` command."""

import sys

from .cli import main

sys.exit(main())
