"""``POST /holaf/images/list``, ``GET /holaf/images/filter-options``, ``GET /holaf/images/last-update-time``."""
from __future__ import annotations

from aiohttp import web

from ...holaf_http import HolafError, json_ok, read_json
from .. import index_queries, logic
from .common import json_bytes


def add_routes(ctx, routes, index) -> None:
    @routes.post("/holaf/images/list")
    async def list_images(request: web.Request) -> web.Response:
        """One page of the gallery (or the trash) for a filter and sort; keyset or offset paging."""
        body = await read_json(request, allow_empty=True)
        try:
            query = logic.parse_list_query(body)
        except logic.QueryError as exc:
            raise HolafError(400, str(exc), code="invalid_query")
        payload = await ctx.db.execute_fn(lambda conn: index_queries.list_response(conn, query, index))
        return json_bytes(payload)

    @routes.get("/holaf/images/filter-options")
    async def filter_options(request: web.Request) -> web.Response:
        """Folders with counts, formats, kinds, tags, models, samplers and LoRAs (cached per change)."""
        payload = await ctx.db.execute_fn(lambda conn: index_queries.filter_options_response(conn, index))
        return json_bytes(payload)

    @routes.get("/holaf/images/last-update-time")
    async def last_update_time(request: web.Request) -> web.Response:
        """When the index last changed, and its change token (compare tokens, not clocks)."""
        return json_ok({"last_update": index.last_update, "change_token": index.change_token})
