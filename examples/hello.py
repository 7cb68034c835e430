"""An example operation: a Python task and a shell task sharing a directory, then a report.

Render it with ``workflows render examples/hello.py``.
"""

from workflows import operations, tasks


def write_greeting():
    import os

    with open(os.path.join(os.environ["shared_directory"], "greeting.txt"), "w") as out:
        out.write("hello from python\n")


greet = tasks.PythonTask("greet", write_greeting)
shout = tasks.BashTask("shout", 'tr a-z A-Z < "$shared_directory/greeting.txt" > "$shared_directory/shout.txt"')
report = tasks.CommandBasedTask("report", ["cat", "/mnt/shared/shout.txt"])

hello = operations.PipelineOperation("hello", [greet, shout, report], shared_directory=True)
