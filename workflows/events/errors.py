"""Exceptions of :mod:`workflows.events` (defined in :mod:`workflows.errors`, importable from here)."""

from __future__ import annotations

from ..errors import (
    EventsConfigurationError,
    EventsError,
    EventsUnavailable,
    InvalidTopicName,
    MessageNotSerializable,
    ResultMissing,
    ResultTimeout,
)

