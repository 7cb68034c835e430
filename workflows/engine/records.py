"""Records: the plain classes the engine's runtime passes around (pods' plans and results, the zygote's messages
and bookkeeping). Each writes its ``__init__``, which sets its fields in order; :class:`Record` gives it what
:func:`dataclasses.dataclass` would: ``repr``, ``==`` and :meth:`Record.replace`; a :class:`FrozenRecord`
is also hashable.

Why not :mod:`dataclasses`: a dataclass compiles the source of the methods it generates when its module is
imported (0.3–0.4 ms per class on the project's machine; the runner's modules defined 31, 14 ms of each
workflow's start), and :mod:`dataclasses` imports :mod:`inspect` (with :mod:`ast`, :mod:`dis` and
:mod:`tokenize`): 1.5 MB more that the pods' zygote would hold and copy into every pod it forks
(``bench/README.md``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # the zygote, which imports this module, stays lean (see .pod.lazy_logging)
    from typing import Any, TypeVar

    _R = TypeVar("_R", bound="Record")


class Record:
    """A record: its fields are the attributes its ``__init__`` sets, in that order."""

    __slots__ = ()  # its subclasses keep a ``__dict__``: their fields

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment] - mutable, as a dataclass without ``frozen``

    def replace(self: _R, **changes: Any) -> _R:
        """A copy of this record with ``changes`` (field name → value). Raises ``TypeError`` naming a field it
        does not have."""
        fields = vars(self)
        for name in changes:
            if name not in fields:
                raise TypeError(f"{type(self).__qualname__} has no field {name!r}")
        copy = object.__new__(type(self))
        vars(copy).update(fields)
        vars(copy).update(changes)
        return copy


class FrozenRecord(Record):
    """A record that is not changed once made (nothing enforces it): hashable by its fields."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(tuple(vars(self).values()))
