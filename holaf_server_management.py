"""Restart ComfyUI from the browser (password-protected, ComfyUI host only).

The process re-executes itself with its original command line (``sys.orig_argv``
keeps interpreter flags such as ``-s`` that ComfyUI portable uses). The reply is
sent first; the restart happens a moment later on a helper thread. The UI then
polls ``/holaf/utilities/info`` until ``started_at`` changes.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from aiohttp import web

from .holaf_http import HolafError, json_ok

log = logging.getLogger("holaf.server")

RESTART_DELAY_S = 0.75


def restart_command() -> list[str]:
    """The command line that started this process, with the current interpreter."""
    original = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
    return [sys.executable, *original[1:]]


def _restart_process(delay: float) -> None:
    time.sleep(delay)
    command = restart_command()
    log.warning("Restarting: %s", " ".join(command))
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:
            pass
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    if os.name == "nt":
        # execv on Windows spawns a child and returns; start the new server and leave.
        subprocess.Popen(command, close_fds=True)
        os._exit(0)
    os.execv(sys.executable, command)


def setup(ctx, routes) -> None:
    @routes.post("/holaf/utilities/restart", auth=True)
    async def restart(request: web.Request) -> web.Response:
        """Restart the ComfyUI server with the same command line."""
        if not ctx.is_comfyui:
            raise HolafError(409, "restart is only available inside ComfyUI", code="not_supported")
        log.warning("Restart requested from %s", request.remote)
        threading.Thread(target=_restart_process, args=(RESTART_DELAY_S,), name="holaf-restart", daemon=True).start()
        return json_ok({"ok": True, "status": "restarting", "previous_started_at": ctx.started_at})
