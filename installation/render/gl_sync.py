"""A GL fence between the context that paints the world's picture and the views that sample it.

OpenGL guarantees that another context of the share group sees a texture's new contents only
once the commands that wrote it have completed there (a flush is not enough on every driver).
:class:`Fence` marks that point in the world's context (``glFenceSync``) and makes each view's
context wait for it on the GPU (``glWaitSync``), so neither the CPU nor the world ever blocks.
The calls are GL 3.2 core, outside vispy's GL ES 2 function set; they come from the same GL
library vispy loaded. Where they are missing the fence falls back to ``glFinish``.
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

from vispy.gloo import gl

log = logging.getLogger(__name__)

GL_SYNC_GPU_COMMANDS_COMPLETE = 0x9117
GL_TIMEOUT_IGNORED = 0xFFFFFFFFFFFFFFFF


def _functions() -> tuple[Any, Any, Any] | None:
    from vispy.gloo.gl import gl2

    try:
        fence = gl2._get_gl_func("glFenceSync", ctypes.c_void_p, (ctypes.c_uint, ctypes.c_uint))
        wait = gl2._get_gl_func("glWaitSync", None, (ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint64))
        delete = gl2._get_gl_func("glDeleteSync", None, (ctypes.c_void_p,))
    except (AttributeError, RuntimeError) as error:
        log.info("no GL sync objects here (%s): the world finishes each frame instead", error)
        return None
    return fence, wait, delete


class Fence:
    """The latest completed-picture mark. Use from the thread that owns the GL contexts."""

    def __init__(self) -> None:
        self._calls = _functions()
        self._sync: int | None = None

    def mark(self) -> None:
        """In the world's context, after its commands for the frame were issued."""
        if self._calls is None:
            gl.glFinish()
            return
        fence, _, delete = self._calls
        if self._sync:
            delete(self._sync)  # a view still waiting on it keeps it alive (deferred deletion)
        self._sync = fence(GL_SYNC_GPU_COMMANDS_COMPLETE, 0)
        gl.glFlush()  # the fence must reach the GPU before another context waits for it

    def wait(self) -> None:
        """In a view's context, before it samples the picture."""
        if self._calls is not None and self._sync:
            self._calls[1](self._sync, 0, GL_TIMEOUT_IGNORED)

    def close(self) -> None:
        if self._calls is not None and self._sync:
            self._calls[2](self._sync)
        self._sync = None
