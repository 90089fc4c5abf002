"""Text to speech, streamed straight to a file without holding the audio in memory."""

from __future__ import annotations

import asyncio
import os
import tempfile

from _offline import open_client


async def main() -> None:
    async with open_client() as client:
        path = os.path.join(tempfile.gettempdir(), "openai_async_speech.mp3")
        async with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="alloy", input="Hello from asyncio."
        ) as response:
            await response.stream_to_file(path)
        print(f"wrote the audio to {path}")


if __name__ == "__main__":
    asyncio.run(main())
