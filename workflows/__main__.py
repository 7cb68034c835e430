"""``python -m workflows``: the ``workflows`` command."""

import sys

from .cli import main

sys.exit(main())
