"""Stream a Responses API answer: print text deltas as they arrive, then the final status."""

from __future__ import annotations

import asyncio

from _offline import open_client


async def main() -> None:
    async with open_client() as client:
        stream = await client.responses.create(
            model="gpt-4o-mini", input="Write a haiku about sockets.", stream=True
        )
        async with stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    print(event.delta, end="", flush=True)
                elif event.type == "response.completed":
                    print(f"\n[{event.response.status}]")


if __name__ == "__main__":
    asyncio.run(main())
