"""``python -m workflows.engine.pod.argosay ARGS``: argosay v2's ``/argosay``."""

import sys

from .commands import main

sys.exit(main(sys.argv[1:]))
