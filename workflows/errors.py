"""Every exception harness-workflows raises, in one module.

The hierarchy (a second base in brackets: what CloudHarness's class of the same
name derives from, or the builtin family the error belongs to, so code written
for either catches it)::

    WorkflowsError
    ├── BadOperationConfiguration [ValueError, RuntimeError]  a task, an operation or a spec Argo would refuse
    │   ├── InvalidWorkflowSpec                                 the spec fails validation (every problem listed)
    │   ├── DependsSyntaxError                                  a ``depends`` expression does not parse
    │   ├── UnsupportedWorkflow                                 the local engine cannot run this workflow
    │   ├── TemplateNotFound                                    a ``templateRef`` names no stored template
    │   ├── BadTemplateDocument                                 a document given as a WorkflowTemplate is none
    │   └── NotLocalBackend                                     template commands need the local backend
    ├── InvalidDuration [ValueError]                            not a Go duration
    ├── SelectorError [ValueError]                              a label or field selector that does not parse
    ├── OperationNotSubmitted [RuntimeError]                    the operation has no workflow yet
    ├── WorkflowException                                       ``workflows.argo``'s errors, with a ``status``
    │   ├── WorkflowNotFound                                    404
    │   ├── BadParam [ValueError]                               400
    │   └── WorkflowResultsMissing [RuntimeError]               500: a workflow published no result
    ├── BackendUnavailable                                      the backend is unknown or cannot be loaded
    ├── ApiFailure                                              a cluster request failed (HTTP status or none)
    ├── ResultTooLarge                                          a result over the size a workflow carries
    ├── ResultParameterMissing                                  a finished workflow carries no result parameter
    ├── CloudHarnessConfigurationError [RuntimeError]           CloudHarness's values unreadable or incomplete
    ├── CloudHarnessEventsUnavailable [RuntimeError]            CloudHarness's Kafka is out of reach
    ├── EventsError                                             ``workflows.events``
    │   ├── EventsUnavailable
    │   ├── EventsConfigurationError [ValueError]
    │   ├── InvalidTopicName [ValueError]
    │   ├── MessageNotSerializable [TypeError]
    │   └── ResultTimeout [TimeoutError]                        no result message in time
    │       └── ResultMissing                                   the workflow ended without publishing them
    ├── TargetError                                             a CLI ``FILE.py[:NAME]`` target cannot be loaded
    ├── TemplateError                                           the engine cannot resolve a tag or an expression
    │   ├── UnresolvedReference                                 a name the scope does not hold
    │   ├── ExpressionError                                     expr-lang, govaluate, sprig
    │   └── LoopError                                           withItems / withParam / withSequence
    ├── JSONPathError [ValueError]                              a JSONPath selector invalid or not matching
    ├── EngineConfigurationError [ValueError]                   a ``WORKFLOWS_*`` setting of the local engine
    ├── NodeFailure                                             a node cannot run: it ends in ``Error``
    ├── ResourceError                                           a resource template's action or condition fails
    ├── PodSetupError                                           a pod cannot be started as specified
    │   └── BuildFailed                                         a ``RUN`` line of an application image failed
    ├── ImageError [ValueError]                                 an image cannot give a process
    ├── DockerfileError [ValueError]                            a Dockerfile cannot be read or understood
    ├── SandboxSyscallError [OSError]                           a system call of the sandbox failed
    │   └── NamespacesRefused                                   the kernel refuses user namespaces
    ├── ZygoteError [OSError]                                   the process that forks the pods failed
    ├── ApiError                                                the fake cluster's answers (``workflows.testing``)
    │   └── Expired                                             410: a resource version older than the history
    ├── WatchClosed                                             the fake cluster ended a watch
    └── BrokerError                                             the test Kafka broker cannot start

The modules that raise them import them from here; the names users import
from elsewhere (``workflows.argo.WorkflowNotFound``,
``workflows.backends.BackendUnavailable``...) are these same classes.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:  # pods' zygotes import this module and stay lean (see engine/pod/lazy_logging.py)
    from typing import Any

#: HTTP statuses worth another try: too many requests, and the server's own failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class WorkflowsError(Exception):
    """Base class of every error raised by harness-workflows."""


# --- configuration and compilation -----------------------------------------------------------------------------


class BadOperationConfiguration(WorkflowsError, ValueError, RuntimeError):
    """A task, an operation or a spec is configured in a way Argo would reject or misrun.

    The message names the offending field and value. It is a ``ValueError``
    and also a ``RuntimeError``, what CloudHarness's class of the same name
    derives from, so code written for either catches it.
    """


class InvalidWorkflowSpec(BadOperationConfiguration):
    """A compiled or raw Argo spec failed validation.

    ``problems`` holds every :class:`workflows.validation.Problem` found, so
    callers can report all of them instead of the first one only.
    """

    def __init__(self, problems: list) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid workflow spec ({len(self.problems)} problem(s)):\n{lines}")


class DependsSyntaxError(BadOperationConfiguration):
    """A ``depends`` expression that Argo cannot parse; the message quotes it and says what is wrong where."""

    def __init__(self, expression: str, position: int, detail: str) -> None:
        self.expression = expression
        self.position = position
        self.detail = detail
        where = "at the end" if position >= len(expression) else f"at position {position}"
        super().__init__(f"invalid depends expression {expression!r} ({where}): {detail}")


class UnsupportedWorkflow(BadOperationConfiguration):
    """The workflow uses a feature the local engine does not run; the message names the template."""


class InvalidDuration(WorkflowsError, ValueError):
    """A text is not a Go duration; the message is Go's (``time: invalid duration "3"``)."""


class SelectorError(WorkflowsError, ValueError):
    """A selector that cannot be parsed or selects on an unsupported field."""


class OperationNotSubmitted(WorkflowsError, RuntimeError):
    """The operation has no workflow yet: it was not submitted."""


class TargetError(WorkflowsError):
    """A ``FILE.py[:NAME]`` target cannot be loaded."""


# --- the workflows.argo API ------------------------------------------------------------------------------------


class WorkflowException(WorkflowsError):
    """A workflow operation failed; ``status`` is the HTTP-like status code."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message or f"workflow error (status {status})")
        self.status = status


class WorkflowNotFound(WorkflowException):
    """No workflow has the name asked for."""

    def __init__(self, name: str = "") -> None:
        super().__init__(404, f"workflow {name!r} not found" if name else "workflow not found")
        self.name = name


class BadParam(WorkflowException, ValueError):
    """A query parameter has a value the API refuses (status 400); ``param`` names it."""

    def __init__(self, param_name: str, message: str = "") -> None:
        super().__init__(400, message or f"bad value for {param_name!r}")
        self.param = param_name


class WorkflowResultsMissing(WorkflowException, RuntimeError):
    """A workflow meant to publish results published none (it failed, or wrote no file).

    A ``RuntimeError`` too: what CloudHarness raises in that case.
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(500, message)
        self.name = name


# --- backends --------------------------------------------------------------------------------------------------


class BackendUnavailable(WorkflowsError):
    """The selected backend is unknown or cannot be loaded or configured."""


class ApiFailure(WorkflowsError):
    """A request failed: an HTTP error answer (``status``), or no answer at all (``status`` is ``None``)."""

    def __init__(self, status: int | None, message: str, reason: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{status} {message}" if status is not None else message)
        self.status = status
        self.message = message
        self.reason = reason
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether sending the same request again may succeed: no answer, 429 or a server failure."""
        return self.status is None or self.status in RETRYABLE_STATUSES


class ResultTooLarge(WorkflowsError):
    """The result message is larger than the workflow path carries (``workflows.backends.results.MAX_RESULT_BYTES``)."""


class ResultParameterMissing(WorkflowsError):
    """A finished workflow carries no result parameter."""


class CloudHarnessConfigurationError(WorkflowsError, RuntimeError):
    """CloudHarness's values cannot be read, or lack what a workflow needs; the message says what and where."""


class CloudHarnessEventsUnavailable(WorkflowsError, RuntimeError):
    """Inside a CloudHarness deployment, results and notifications travel through its Kafka, which this
    library cannot reach: no broker is known (the values deploy no ``events`` application, no bootstrap variable)."""


# --- events ----------------------------------------------------------------------------------------------------


class EventsError(WorkflowsError):
    """Base class of every error raised by :mod:`workflows.events`."""


class EventsUnavailable(EventsError):
    """The configured events backend cannot be reached or used (an unreachable broker, a timeout)."""


class EventsConfigurationError(EventsError, ValueError):
    """An events setting of the environment has a value the library does not understand."""


class InvalidTopicName(EventsError, ValueError):
    """A topic (queue) name breaks Kafka's rules: 1-249 of ``a-z A-Z 0-9 . _ -``, not ``.`` or ``..``."""


class MessageNotSerializable(EventsError, TypeError):
    """A message given to ``produce`` cannot be encoded as JSON."""


class ResultTimeout(EventsError, TimeoutError):
    """No result message arrived on a topic within the time allowed."""


class ResultMissing(ResultTimeout):
    """A workflow ended (its on-exit notification arrived) without publishing the results awaited."""


# --- the local engine: languages -------------------------------------------------------------------------------


class TemplateError(WorkflowsError):
    """A ``{{...}}`` tag, a ``when`` condition or an expression that cannot be resolved or evaluated.

    ``tag`` is the offending text (a tag body such as ``inputs.parameters.x`` or
    ``=asInt(x)``, a condition or an expression) and ``where`` locates it (a
    path such as ``arguments.parameters[0].value``; empty when unknown). The
    message always names both.
    """

    def __init__(self, message: str, *, tag: str | None = None, where: str = "") -> None:
        self.tag = tag
        self.where = where
        self.reason = message
        super().__init__(f"{message} (at {where})" if where else message)

    def located(self, where: str) -> TemplateError:
        """Return a copy of this error (same class) whose message also names ``where``."""
        if not where or self.where:
            return self
        error = type(self).__new__(type(self))
        TemplateError.__init__(error, self.reason, tag=self.tag, where=where)
        return error


class UnresolvedReference(TemplateError):
    """A ``{{name}}`` tag, or a name an expression uses, that the scope does not hold.

    Argo requeues the node on such errors when the name is a ``steps.``/``tasks.``
    reference (the producer may not have finished yet); ``name`` is the missing name.
    """

    def __init__(self, message: str, *, name: str, tag: str | None = None, where: str = "") -> None:
        super().__init__(message, tag=tag, where=where)
        self.name = name

    def located(self, where: str) -> TemplateError:
        """Return a copy of this error whose message also names ``where``."""
        if not where or self.where:
            return self
        return UnresolvedReference(self.reason, name=self.name, tag=self.tag, where=where)


class ExpressionError(TemplateError):
    """A syntax or evaluation error in an expression (``{{=...}}``, ``when:``, ``expression:``)."""


class LoopError(TemplateError):
    """A ``withItems``/``withParam``/``withSequence`` that cannot be expanded (bad JSON, bad numbers, ...)."""


class JSONPathError(WorkflowsError, ValueError):
    """An invalid JSONPath selector, or a selector that does not match the data."""


# --- the local engine: nodes and pods --------------------------------------------------------------------------


class EngineConfigurationError(WorkflowsError, ValueError):
    """A setting of the local engine (a ``WORKFLOWS_*`` variable) has a value it cannot use."""


class NodeFailure(WorkflowsError):
    """A node cannot run (bad inputs, unresolvable references): it ends in ``Error`` with this message."""


class PodSetupError(WorkflowsError):
    """A pod cannot be started as specified (the node ends in ``Error`` with this message)."""


class BuildFailed(PodSetupError):
    """A ``RUN`` line of an application image failed; the message holds the build log."""


class ImageError(WorkflowsError, ValueError):
    """An image cannot give a process: empty image name, or no command at all."""


class DockerfileError(WorkflowsError, ValueError):
    """A Dockerfile cannot be read or understood.

    ``path`` is the Dockerfile, ``line`` the 1-based line of the offending
    instruction (``None`` when the whole file is at fault); the message names both.
    """

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {message}")


class SandboxSyscallError(WorkflowsError, OSError):
    """A system call of the sandbox failed; the message names the call and its arguments."""


class NamespacesRefused(SandboxSyscallError):
    """The kernel refused to create namespaces (user namespaces disabled or exhausted, or a security policy)."""


# --- the fake cluster of workflows.testing ---------------------------------------------------------------------


class ApiError(WorkflowsError):
    """An API answer other than success: HTTP ``code``, Kubernetes ``reason``, ``message`` and ``details``."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        """The error as a Kubernetes ``Status`` object."""
        body: dict[str, Any] = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


class WatchClosed(WorkflowsError):
    """The watch was ended by the cluster (stopped, or its streams dropped on purpose)."""


class Expired(ApiError):
    """A watch or a continue token from a ``resourceVersion`` older than the history kept."""

    def __init__(self, asked: int, oldest: int) -> None:
        super().__init__(410, "Expired", f"too old resource version: {asked} ({oldest})")


class NotLocalBackend(BadOperationConfiguration):
    """A template command was used with a backend other than ``local`` (Argo keeps its templates itself)."""


class ResourceError(WorkflowsError):
    """A resource action or condition cannot be carried out; the message says why (the node errors)."""


class TemplateNotFound(BadOperationConfiguration):
    """A ``templateRef`` or ``workflowTemplateRef`` names a (Cluster)WorkflowTemplate or template that is not there."""


class BadTemplateDocument(BadOperationConfiguration):
    """A document given as a (Cluster)WorkflowTemplate is not one: wrong kind, no name, no spec."""


class BrokerError(WorkflowsError):
    """The test broker cannot start, or its folder holds something it cannot read."""


class ZygoteError(WorkflowsError, OSError):
    """The zygote (the process that forks a runner's pods) could not be started or did not answer."""

    def __str__(self) -> str:
        """The message alone: it names the system's error where there was one (a pod's node shows it)."""
        return self.strerror if self.strerror is not None else super().__str__()
