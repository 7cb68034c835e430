"""The fake cluster's object store: what etcd and the API server's registry do for it.

Objects are kept per ``(resource, namespace, name)``; every change takes the next
``resourceVersion`` (one counter for the whole cluster, as etcd's revision) and is
recorded as a watch event. Watches read those events from any ``resourceVersion``
still in the history; an older one is *expired* (HTTP 410), as after etcd compacts.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import WatchClosed
from ..timestamps import timestamp
from .api import ApiError, Expired, Kind
from .selection import Selector

#: The API server's alphabet for ``generateName`` suffixes (no vowels, no look-alike characters).
NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAME_SUFFIX_LENGTH = 5
#: The API server cuts a longer ``generateName`` to this length before adding the suffix (63 - 5).
MAX_GENERATED_PREFIX = 58
#: Events kept for watches; a watch from before the oldest one kept is expired.
HISTORY_LENGTH = 10_000
_GENERATE_ATTEMPTS = 8


@dataclass(frozen=True)
class Event:
    """One change: ``type`` (ADDED, MODIFIED, DELETED), the object after it and, for MODIFIED, before it."""

    revision: int
    type: str
    kind: Kind
    namespace: str
    object: dict[str, Any]
    previous: dict[str, Any] | None = None


def generate_name(prefix: str) -> str:
    """A name made from ``generateName`` as the API server makes it: the prefix, cut to
    :data:`MAX_GENERATED_PREFIX` characters, and 5 random characters of its alphabet."""
    suffix = "".join(secrets.choice(NAME_SUFFIX_ALPHABET) for _ in range(NAME_SUFFIX_LENGTH))
    return prefix[:MAX_GENERATED_PREFIX] + suffix


class ResourceStore:
    """Every object of the fake cluster, its resourceVersion counter and its event history."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._revision = 1
        self._history: deque[Event] = deque(maxlen=HISTORY_LENGTH)
        self._oldest = 1
        self._generation = 0  # bumped to end every open watch
        self._closed = False

    # --- reading ---------------------------------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The current resourceVersion of the cluster."""
        with self._changed:
            return self._revision

    def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        """A copy of the object; :meth:`Kind.not_found` when there is none."""
        with self._changed:
            found = self._objects.get((kind.plural, namespace, name))
            if found is None:
                raise kind.not_found(name)
            return copy.deepcopy(found)

    def find(self, kind: Kind, namespace: str, name: str) -> dict[str, Any] | None:
        """A copy of the object, or ``None``."""
        with self._changed:
            found = self._objects.get((kind.plural, namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def list(self, kind: Kind, namespace: str | None, selector: Selector, limit: int = 0,
             continue_token: str | None = None) -> tuple[list[dict[str, Any]], str, str | None]:
        """Matching objects in key order (namespace, name), the list's resourceVersion and the next continue token.

        ``namespace`` ``None`` lists every namespace. As the API server does, a continue token carries
        the resourceVersion of the first page; once that is expired the token is refused with 410. (Unlike
        the API server, later pages show objects as they are now, not as of the first page.)
        """
        with self._changed:
            revision, start = self._revision, ""
            if continue_token:
                revision, start = self._decode_continue(continue_token)
                if revision + 1 < self._oldest:
                    raise ApiError(410, "Expired", "The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without the continue parameter.")
            keys = sorted(key for key in self._objects if key[0] == kind.plural
                          and (namespace is None or key[1] == namespace) and f"{key[1]}/{key[2]}" > start)
            items, token = [], None
            for key in keys:
                item = self._objects[key]
                if not selector.matches(item):
                    continue
                if limit and len(items) == limit:
                    token = self._encode_continue(revision, f"{items[-1]['metadata'].get('namespace', '')}/"
                                                            f"{items[-1]['metadata']['name']}")
                    break
                items.append(copy.deepcopy(item))
            return items, str(revision), token

    @staticmethod
    def _encode_continue(revision: int, start: str) -> str:
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_continue(token: str) -> tuple[int, str]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return int(data["rv"]), str(data["start"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, "BadRequest", "continue key is not valid: incorrect encoded start "
                           "resourceVersion (version meta.k8s.io/v1)") from None

    # --- writing ---------------------------------------------------------------------------------------------------

    def create(self, kind: Kind, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object (named from ``generateName`` when it has no name); return a copy as stored."""
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        generated = not metadata.get("name")
        if generated and not metadata.get("generateName"):
            raise kind.invalid("", "metadata.name", "Required value: name or generateName is required")
        with self._changed:
            for _ in range(_GENERATE_ATTEMPTS):
                if generated:
                    metadata["name"] = generate_name(metadata["generateName"])
                key = (kind.plural, namespace, metadata["name"])
                if key not in self._objects:
                    break
                if not generated:
                    raise kind.already_exists(metadata["name"])
            else:
                raise kind.already_exists(metadata["name"])
            metadata.update(namespace=namespace, uid=str(uuid.uuid4()), generation=1,
                            creationTimestamp=timestamp(), resourceVersion=str(self._revision + 1))
            obj.setdefault("apiVersion", kind.api_version)
            obj.setdefault("kind", kind.kind)
            self._objects[key] = obj
            self._record("ADDED", kind, namespace, obj)
            return copy.deepcopy(obj)

    def update(self, kind: Kind, namespace: str, name: str,
               change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Apply ``change`` to a copy of the object; store it (next resourceVersion) only if it differs.

        Returns a copy of the object as stored; :meth:`Kind.not_found` when there is none. ``change`` may
        raise :class:`ApiError` to refuse the update.
        """
        with self._changed:
            key = (kind.plural, namespace, name)
            current = self._objects.get(key)
            if current is None:
                raise kind.not_found(name)
            updated = copy.deepcopy(current)
            change(updated)
            updated["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if updated == current:
                return copy.deepcopy(current)
            if updated.get("spec") != current.get("spec"):
                updated["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
            updated["metadata"]["resourceVersion"] = str(self._revision + 1)
            self._objects[key] = updated
            self._record("MODIFIED", kind, namespace, updated, current)
            return copy.deepcopy(updated)

    def delete(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        """Remove the object; return it as it was when deleted (with the deletion's resourceVersion)."""
        with self._changed:
            removed = self._objects.pop((kind.plural, namespace, name), None)
            if removed is None:
                raise kind.not_found(name)
            removed["metadata"]["resourceVersion"] = str(self._revision + 1)
            self._record("DELETED", kind, namespace, removed)
            return copy.deepcopy(removed)

    def _record(self, event_type: str, kind: Kind, namespace: str, obj: dict[str, Any],
                previous: dict[str, Any] | None = None) -> None:
        self._revision += 1
        if len(self._history) == self._history.maxlen:
            self._oldest = self._history[0].revision + 1  # the event about to fall out of the history
        self._history.append(Event(self._revision, event_type, kind, namespace, copy.deepcopy(obj), previous))
        self._changed.notify_all()

    def wait_for(self, check: Callable[[], bool], timeout: float) -> None:
        """Return once ``check()`` is true, checking now and after each change of an object (no polling);
        :class:`TimeoutError` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the fake cluster did not reach the expected state within {timeout} s")
                self._changed.wait(remaining)

    def compact(self) -> None:
        """Forget the history: every resourceVersion before the current one is expired for watches and continue
        tokens (as after etcd compacts at the current revision)."""
        with self._changed:
            self._history.clear()
            self._oldest = self._revision + 1

    def close_watches(self) -> None:
        """End every open watch now (each raises :class:`WatchClosed` in its reader)."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def close(self) -> None:
        """End every watch, open now or started later."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    # --- watching --------------------------------------------------------------------------------------------------

    def watch(self, kind: Kind, namespace: str | None, selector: Selector, since: int | None,
              deadline: float | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(type, object)`` for each change after resourceVersion ``since``, as the API server's watch.

        The watch starts when this is called (its first events are those of that moment). ``since`` ``None``
        starts with an ``ADDED`` event for every matching object, then follows changes. An object that starts
        or stops matching ``selector`` appears as ADDED or DELETED. Raises :class:`Expired` (before any event)
        when ``since`` is older than the history kept, and :class:`WatchClosed` once :meth:`close_watches` or
        :meth:`close` is called; returns at ``deadline`` (monotonic).
        """
        with self._changed:
            generation, expired, initial = self._generation, None, []
            if since is None:
                cursor = self._revision
                initial = [copy.deepcopy(obj) for key, obj in sorted(self._objects.items())
                           if key[0] == kind.plural and (namespace is None or key[1] == namespace)
                           and selector.matches(obj)]
            else:
                cursor = since
                if since + 1 < self._oldest:
                    expired = Expired(since, self._oldest - 1)
        return self._follow(kind, namespace, selector, generation, cursor, initial, expired, deadline)

    def _follow(self, kind: Kind, namespace: str | None, selector: Selector, generation: int, cursor: int,
                initial: list[dict[str, Any]], expired: Expired | None,
                deadline: float | None) -> Iterator[tuple[str, dict[str, Any]]]:
        if expired is not None:
            raise expired
        for obj in initial:
            yield "ADDED", obj
        while True:
            with self._changed:
                while True:
                    if self._closed or self._generation != generation:
                        raise WatchClosed("the watch was closed by the cluster")
                    if cursor + 1 < self._oldest:
                        raise Expired(cursor, self._oldest - 1)
                    first = self._history[0].revision if self._history else self._revision + 1
                    pending = list(itertools.islice(self._history, max(cursor + 1 - first, 0), None))
                    if pending:
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return
                    self._changed.wait(remaining)
            for event in pending:
                cursor = event.revision
                seen = self._as_seen(event, kind, namespace, selector)
                if seen is not None:
                    yield seen

    @staticmethod
    def _as_seen(event: Event, kind: Kind, namespace: str | None,
                 selector: Selector) -> tuple[str, dict[str, Any]] | None:
        """The event as a watch with ``selector`` sees it (or ``None``), with its copy of the object."""
        if event.kind != kind or (namespace is not None and event.namespace != namespace):
            return None
        matches = selector.matches(event.object)
        if event.type == "MODIFIED":
            matched = event.previous is not None and selector.matches(event.previous)
            if matched and not matches:
                return "DELETED", copy.deepcopy(event.object)
            if matches and not matched:
                return "ADDED", copy.deepcopy(event.object)
        return (event.type, copy.deepcopy(event.object)) if matches else None
