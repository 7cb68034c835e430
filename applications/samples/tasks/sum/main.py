"""Add the two numbers given as arguments and write the sum to ``<shared directory>/result``."""

import os
import sys

from workflows.utils import get_shared_directory

if len(sys.argv) < 3:
    sys.exit("usage: main.py A B (two numbers to add)")

a = float(sys.argv[1])
b = float(sys.argv[2])

path = os.path.join(get_shared_directory(), "result")
with open(path, "w") as result:
    result.write(str(a + b))
print(f"{a} + {b} = {a + b}, written to {path}")
