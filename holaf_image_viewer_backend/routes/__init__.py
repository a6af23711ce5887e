"""HTTP routes of the Image Viewer, one module per resource; each exposes ``add_routes(routes, ctx, ...)``."""
