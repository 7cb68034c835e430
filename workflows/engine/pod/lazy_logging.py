"""Loggers for the modules a pods' zygote imports, which stay lean (see :mod:`.zygote`).

Every pod's leader is a fork of the zygote: each megabyte of its heap is
copied and torn down again for every pod. :mod:`logging` (with
:mod:`traceback`, :mod:`string` and :mod:`threading` behind it) weighs about
0.8 MB there, for warnings that are almost never given; a
:class:`LazyLogger` imports it on its first message.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging


class LazyLogger:
    """The :class:`logging.Logger` named ``name``, looked up (and :mod:`logging` imported) on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    def __getattr__(self, method: str):  # noqa: ANN204 - whatever the Logger has: warning, debug...
        if self._logger is None:
            import logging  # noqa: PLC0415 - the point of this class

            self._logger = logging.getLogger(self.name)
        return getattr(self._logger, method)
