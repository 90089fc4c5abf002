"""Stream a chat answer token by token in an `async for` loop."""

from __future__ import annotations

import asyncio

from _offline import open_client


async def main() -> None:
    async with open_client() as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Count from one to ten."}],
            stream=True,
            stream_options={"include_usage": True},
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    print(chunk.choices[0].delta.content, end="", flush=True)
        print(f"\n(request id {stream.request_id})")


if __name__ == "__main__":
    asyncio.run(main())
