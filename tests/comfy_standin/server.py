"""A tiny stand-in for ComfyUI's ``server`` module: just what an extension touches.

``PromptServer.instance`` with ``routes`` (a RouteTableDef collected at import
time), ``app``, ``loop`` and ``send_sync``; ``add_routes`` mounts them the way
ComfyUI does, mirroring every non-static route under ``/api``. Used by the tests
that load Holaf Utilities the way ComfyUI loads a custom node.
"""
from __future__ import annotations

from aiohttp import web


class PromptServer:
    instance: "PromptServer | None" = None

    def __init__(self, loop=None) -> None:
        PromptServer.instance = self
        self.loop = loop
        self.routes = web.RouteTableDef()
        self.app = web.Application(client_max_size=100 * 1024 * 1024)
        self.sent: list[tuple] = []
        self.sockets: dict = {}

    def send_sync(self, event, data, sid=None) -> None:
        self.sent.append((event, data, sid))

    def add_routes(self, extension_web_dirs: dict | None = None) -> None:
        api_routes = web.RouteTableDef()
        for route in self.routes:
            if isinstance(route, web.RouteDef):
                api_routes.route(route.method, "/api" + route.path)(route.handler, **route.kwargs)
        self.app.add_routes(api_routes)
        self.app.add_routes(self.routes)
        for name, folder in (extension_web_dirs or {}).items():
            self.app.router.add_static(f"/extensions/{name}", folder)
