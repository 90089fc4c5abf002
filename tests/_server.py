"""A tiny helper to run an aiohttp.web app on 127.0.0.1 for the duration of a test."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

from aiohttp import web


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Start ``app`` on a free loopback port and yield its base URL (``http://127.0.0.1:PORT/v1``)."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    port = sock.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


def routes(*pairs: tuple[str, str, object]) -> web.Application:
    """Build an app from (method, path, handler) triples."""
    app = web.Application()
    for method, path, handler in pairs:
        app.router.add_route(method, path, handler)  # type: ignore[arg-type]
    return app
