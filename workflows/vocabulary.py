"""Argo's vocabulary, in one place: phases, template kinds, artifact locations, the template walker.

The compiler, the validator, the local engine and the backends all read these
names from here, so they cannot disagree on what Argo calls things.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any, Dict


class Phase(str, Enum):
    """Workflow and node phases, as Argo names them.

    A ``str`` enum: every member compares equal to (and hashes like) its string, so
    ``Phase.Succeeded == "Succeeded"`` and ``"Failed" in {Phase.Failed}``. CloudHarness's
    deprecated ``Node*`` names are aliases of the same members.
    """

    Pending = "Pending"
    Running = "Running"
    Succeeded = "Succeeded"
    Skipped = "Skipped"
    Failed = "Failed"
    Error = "Error"
    #: A node phase only: a DAG task or a step that was never scheduled (``depends`` not met, ``failFast``).
    Omitted = "Omitted"

    NodePending = "Pending"
    NodeRunning = "Running"
    NodeSucceeded = "Succeeded"
    NodeSkipped = "Skipped"
    NodeFailed = "Failed"
    NodeError = "Error"

    #: CloudHarness's finished phases (``Skipped`` included): set after the class, an enum body makes members.
    FINISHED: tuple[Phase, ...]

    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value

    def __format__(self, format_spec: str) -> str:
        return format(self.value, format_spec)

    @classmethod
    def phases(cls) -> tuple[Phase, ...]:
        """Every phase a workflow can be in, as CloudHarness lists them."""
        return (cls.Pending, cls.Running, cls.Succeeded, cls.Skipped, cls.Failed, cls.Error)


Phase.FINISHED = (Phase.Succeeded, Phase.Skipped, Phase.Failed, Phase.Error)

#: Phases in which a workflow (or a node, Argo's ``NodePhase.Completed``) has ended after running.
COMPLETED_PHASES: tuple[Phase, ...] = (Phase.Succeeded, Phase.Failed, Phase.Error)
#: Argo's ``NodePhase.Fulfilled``: a node that will not change any more (Skipped and Omitted included).
FULFILLED_PHASES = frozenset((*COMPLETED_PHASES, Phase.Skipped, Phase.Omitted))
#: Every phase a node can be in.
NODE_PHASES = frozenset(Phase)
#: The phases that make a node count as failed.
FAILED_OR_ERROR = frozenset((Phase.Failed, Phase.Error))

#: Template kinds, in the order Argo's ``Template.GetType`` tries them.
TEMPLATE_TYPES = ("container", "containerSet", "steps", "dag", "script", "resource", "data", "suspend", "http",
                  "plugin")
#: Templates that do the work themselves (``Template.IsLeaf``).
LEAF_TYPES = frozenset({"container", "containerSet", "script", "resource", "data", "http", "plugin"})
#: Templates that run a pod (``Template.IsPodType``).
POD_TYPES = frozenset({"container", "containerSet", "script", "resource", "data"})
#: Templates whose node publishes ``outputs.result`` and ``exitCode``.
RESULT_TYPES = frozenset({"container", "script", "data", "http", "plugin"})

#: Where an artifact can be stored; one of them set means the artifact has a location or a key.
ARTIFACT_LOCATIONS = ("s3", "git", "http", "artifactory", "hdfs", "raw", "oss", "gcs", "azure", "plugin")

#: The name of the template a compiled operation runs on exit (its notification).
EXIT_HANDLER_NAME = "exit-handler"

#: The variables a template's ``{{...}}`` tags and expressions resolve against, flat: Argo's variable name
#: (``inputs.parameters.x``, ``steps.a.outputs.result``...) -> its value (a string for ``{{name}}``;
#: ``None``: an absent optional). What the engine builds and its languages read.
Scope = Dict[str, Any]


def template_type(template: dict[str, Any]) -> str | None:
    """The kind of ``template`` (``container``, ``dag``...) as Argo picks it, ``None`` when it has none."""
    return next((kind for kind in TEMPLATE_TYPES if template.get(kind) is not None), None)


def artifact_location(artifact: dict[str, Any]) -> str | None:
    """Which of :data:`ARTIFACT_LOCATIONS` ``artifact`` is stored in, ``None`` when it names none."""
    return next((location for location in ARTIFACT_LOCATIONS if artifact.get(location) is not None), None)


def walk_templates(templates: object) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Yield ``(label, template)`` for the list ``templates`` and, recursively, the inline templates of
    their steps and DAG tasks.

    ``label`` is the template's name, or for an inline template (which has none) the name of the step or
    task holding it. Entries of the wrong type are skipped, so a malformed spec never crashes the walk.
    """
    for template in templates if isinstance(templates, list) else ():
        if type(template) is not dict:
            continue
        yield template.get("name"), template
        groups = template.get("steps")
        holders = [step for group in groups if isinstance(group, list)
                   for step in group] if isinstance(groups, list) else []
        dag = template.get("dag")
        tasks = dag.get("tasks") if isinstance(dag, dict) else None
        holders += tasks if isinstance(tasks, list) else []
        for holder in holders:
            inline = holder.get("inline") if type(holder) is dict else None
            if type(inline) is dict:
                for label, found in walk_templates([inline]):
                    yield (label if found is not inline else holder.get("name")), found
