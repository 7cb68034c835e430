"""``python -m workflows.engine.pod.argosay ARGS``: argosay v2's ``/argosay`` (``cowsay ARGS`` when run as ``cowsay``)."""

import sys

from .commands import main

sys.exit(main(sys.argv[1:]))
