"""Exceptions of :mod:`workflows.events`, at their old location (defined in :mod:`workflows.errors`, where the
package itself imports them from)."""

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

