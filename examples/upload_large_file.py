"""Upload a large file through the Uploads API: 5 MB parts, 4 in flight, streamed from disk (never read whole)."""

from __future__ import annotations

import asyncio
import os
import tempfile

from _offline import open_client

SIZE = 20 * 1024 * 1024
PART = 5 * 1024 * 1024


def write_sample(path: str, size: int) -> None:
    """A text file of about ``size`` bytes."""
    line = b"The quick brown fox jumps over the lazy dog. " * 20 + b"\n"
    with open(path, "wb") as f:
        for _ in range(size // len(line)):
            f.write(line)


async def upload(path: str) -> None:
    async with open_client() as client:

        def on_part(sent: int, total: int) -> None:
            print(f"  {sent / total:4.0%}  {sent:>10,} / {total:,} bytes")

        upload = await client.uploads.upload_file_chunked(
            file=path,
            mime_type="text/plain",
            purpose="assistants",
            part_size=PART,
            concurrency=4,
            on_part=on_part,
        )
        file = upload.file  # the File the parts were assembled into
        print(f"upload {upload.id}: {upload.status}; file {file['id']}, {file['bytes']:,} bytes")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:  # removed, file and all, on the way out
        path = os.path.join(tmp, "large.txt")
        write_sample(path, SIZE)
        asyncio.run(upload(path))


if __name__ == "__main__":
    main()
