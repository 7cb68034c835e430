"""Tasks: the units of work that operations combine (compatible with ``cloudharness.workflows.tasks``)."""

from .base import Task
from .containerized import CommandBasedTask, ContainerizedTask, CustomTask
from .inlined import BashTask, InlinedTask, PythonTask

__all__ = ["Task", "InlinedTask", "PythonTask", "BashTask", "ContainerizedTask", "CustomTask", "CommandBasedTask"]
