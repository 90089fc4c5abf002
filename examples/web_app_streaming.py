"""An aiohttp web endpoint that streams model tokens to its own HTTP client as they arrive.

Run as a script it starts the app on 127.0.0.1, calls its endpoint once, prints what came back, and stops.
"""

from __future__ import annotations

import asyncio

import aiohttp
from _offline import open_client
from aiohttp import web

from openai_async import AsyncOpenAI


def make_app(client: AsyncOpenAI) -> web.Application:
    async def ask(request: web.Request) -> web.StreamResponse:
        question = request.query.get("q", "Say hi")
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        await response.prepare(request)
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}], stream=True
        )
        async with stream:  # if the browser goes away, leaving this block closes the upstream socket too
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    await response.write(chunk.choices[0].delta.content.encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/ask", ask)
    return app


async def main() -> None:
    async with open_client() as client:
        runner = web.AppRunner(make_app(client))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/ask", params={"q": "Stream three words"}) as resp,
            ):
                async for piece in resp.content.iter_any():
                    print(piece.decode(), end="", flush=True)
            print()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
