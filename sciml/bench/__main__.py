"""``python -m sciml.bench ...`` is the same as ``sciml-bench ...``."""

import sys

from .cli import main

sys.exit(main())
