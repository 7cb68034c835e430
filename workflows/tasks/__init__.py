"""Tasks: the units of work that operations combine (compatible with ``cloudharness.workflows.tasks``).

``V1alpha1Template`` is the light template model of :mod:`workflows.tasks.overrides`
(importing this package never imports the argo SDK).
"""

from .base import Task
from .containerized import CommandBasedTask, ContainerizedTask, CustomTask, SendResultTask
from .inlined import BashTask, InlinedTask, PythonTask
from .overrides import V1alpha1Template

__all__ = [
    "Task",
    "InlinedTask",
    "PythonTask",
    "BashTask",
    "ContainerizedTask",
    "CustomTask",
    "CommandBasedTask",
    "SendResultTask",
    "V1alpha1Template",
]
