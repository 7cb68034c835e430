"""Exceptions of :mod:`workflows.events`."""

from __future__ import annotations

from ..errors import WorkflowsError


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
