"""One chat completion, printed. Offline (no OPENAI_API_KEY) it talks to the local fake server."""

from __future__ import annotations

import asyncio

from _offline import open_client


async def main() -> None:
    async with open_client() as client:
        completion = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Say hello in five words."}],
        )
        print(completion.choices[0].message.content)
        print(f"({completion.usage.total_tokens if completion.usage else '?'} tokens)")


if __name__ == "__main__":
    asyncio.run(main())
