"""Start the samples service: ``python applications/samples/backend/serve.py --port PORT``.

It binds 127.0.0.1 and runs its operations on the backend ``WORKFLOWS_BACKEND`` names (the local engine
unless set). Unless ``WORKFLOWS_APPLICATIONS`` says otherwise, task images are this repository's
``applications/`` folder, so ``samples-sum`` is ``applications/samples/tasks/sum/``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parent
APPLICATIONS = BACKEND.parents[1]


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free port)")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    os.environ.setdefault("WORKFLOWS_APPLICATIONS", str(APPLICATIONS))
    sys.path.insert(0, str(BACKEND))
    from werkzeug.serving import make_server

    from samples import create_app

    server = make_server("127.0.0.1", options.port, create_app(), threaded=True)
    print(f"samples service on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
