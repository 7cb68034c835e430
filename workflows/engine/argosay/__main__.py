"""``python -m workflows.engine.argosay ARGS``: argosay v2's ``/argosay`` (``cowsay ARGS`` when run as ``cowsay``)."""

import sys

from .commands import main

sys.exit(main(sys.argv[1:]))
