"""HTTP routes of the Image Viewer index, one module per resource.

Handlers stay thin: validate (paths through ``resolve_user_path``), call the
store or the index service off the event loop, shape the JSON.
"""
from __future__ import annotations

from . import files, listing, maintenance, metadata, tags


def add_routes(ctx, routes, index, watcher) -> None:
    listing.add_routes(ctx, routes, index)
    metadata.add_routes(ctx, routes, index)
    files.add_routes(ctx, routes, index)
    maintenance.add_routes(ctx, routes, index, watcher)
    tags.add_routes(ctx, routes, index)
