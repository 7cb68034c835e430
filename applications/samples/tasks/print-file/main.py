"""Print the file whose path is the first argument; fail when it does not exist."""

import os
import sys

from workflows.utils import get_workflow_name

if len(sys.argv) < 2:
    sys.exit("usage: main.py FILE")

path = sys.argv[1]
if not os.path.isfile(path):
    sys.exit(f"{path} does not exist (workflow {get_workflow_name()})")
with open(path) as printed:
    print(printed.read())
