"""uploads.upload_file_chunked against the fake Uploads API on 127.0.0.1: order, md5, concurrency, memory, cancel."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import msgspec
import pytest

from openai_async import AsyncOpenAI, InternalServerError, RetryPolicy

from ._fake_batch_server import FakeOpenAI
from ._server import serve

pytestmark = pytest.mark.anyio

MD5_OF_1_GIB_OF_ZEROS = "cd573cfaace07e7949bc0c46028904ff"


def _client(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant())


async def test_parts_arrive_complete_in_order_with_the_right_md5(tmp_path: Path) -> None:
    """A file split into uneven parts is reassembled byte for byte, in order, and the md5 the fake checks matches."""
    content = os.urandom(1_000_003)
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    fake = FakeOpenAI()
    progress: list[tuple[int, int]] = []
    async with serve(fake.app()) as url, _client(url) as client:
        upload = await client.uploads.upload_file_chunked(
            file=path,
            mime_type="application/octet-stream",
            purpose="batch",
            part_size=100_000,
            concurrency=3,
            on_part=lambda done, total: progress.append((done, total)),
        )
    assert upload.status == "completed" and upload.filename == "data.bin"
    (record,) = fake.uploads.values()
    assert len(record["part_ids"]) == 11
    assert record["md5"] == hashlib.md5(content).hexdigest()
    file_id = upload.file["id"]
    assert fake.contents[file_id] == content
    assert progress[-1] == (len(content), len(content))


async def test_bytes_input_is_uploaded_in_parts() -> None:
    """Bytes (with a filename) are accepted as well as a path."""
    fake = FakeOpenAI()
    async with serve(fake.app()) as url, _client(url) as client:
        upload = await client.uploads.upload_file_chunked(
            file=b"a" * 10 + b"b" * 10 + b"c",
            filename="x.txt",
            mime_type="text/plain",
            purpose="assistants",
            part_size=10,
        )
    assert fake.contents[upload.file["id"]] == b"a" * 10 + b"b" * 10 + b"c"


async def test_a_failed_part_cancels_the_upload(tmp_path: Path) -> None:
    """When a part fails for good, the upload is cancelled on the server and the part's error is raised."""
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(50_000))
    fake = FakeOpenAI()
    fake.fail_parts_after = 1
    async with serve(fake.app()) as url, _client(url) as client:
        with pytest.raises(InternalServerError):
            await client.uploads.upload_file_chunked(
                file=path,
                mime_type="application/octet-stream",
                purpose="batch",
                part_size=10_000,
                concurrency=2,
            )
    (record,) = fake.uploads.values()
    assert record["status"] == "cancelled"
    assert not fake.calls_to("POST", f"/v1/uploads/{record['id']}/complete")


async def test_cancelling_the_caller_cancels_the_upload(tmp_path: Path) -> None:
    """A caller cancelled mid-upload (here after the first part) leaves the upload cancelled, not pending."""
    import anyio

    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(200_000))
    fake = FakeOpenAI()
    async with serve(fake.app()) as url, _client(url) as client:
        with anyio.CancelScope() as scope:
            await client.uploads.upload_file_chunked(
                file=path,
                mime_type="application/octet-stream",
                purpose="batch",
                part_size=10_000,
                concurrency=2,
                on_part=lambda done, total: scope.cancel(),
            )
    assert scope.cancelled_caught
    (record,) = fake.uploads.values()
    assert record["status"] == "cancelled"
    assert len(record.get("part_ids", [])) == 0 and len(fake.parts) < 20


_CHILD = """
import sys, time
import anyio
import msgspec
from openai_async import AsyncOpenAI

async def main(url, path, part_size, concurrency):
    async with AsyncOpenAI(api_key="k", base_url=url) as client:
        started = time.monotonic()
        upload = await client.uploads.upload_file_chunked(
            file=path, mime_type="application/octet-stream", purpose="batch",
            part_size=part_size, concurrency=concurrency)
        elapsed = time.monotonic() - started
    # VmHWM is this process's own peak: ru_maxrss would carry over the forking pytest's peak across exec.
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(msgspec.json.encode({"status": upload.status, "elapsed": elapsed, "peak_mib": peak_kib / 1024}).decode())

anyio.run(main, sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB and sparse files: Linux")
async def test_one_gib_sparse_file_streams_with_bounded_memory(tmp_path: Path) -> None:
    """A 1 GiB sparse file uploads in 64 MiB parts, 4 at once, with the client's peak RSS under 100 MB."""
    import anyio

    path = tmp_path / "sparse.bin"
    with open(path, "wb") as f:
        f.truncate(1024**3)
    fake = FakeOpenAI(keep_part_bytes=False, expected_md5=MD5_OF_1_GIB_OF_ZEROS)
    async with serve(fake.app()) as url:
        started = time.monotonic()
        done = await anyio.run_process(
            [sys.executable, "-c", _CHILD, url, str(path), str(64 * 1024**2), "4"], check=False
        )
        wall = time.monotonic() - started
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = msgspec.json.decode(done.stdout.strip().splitlines()[-1])
    print(
        f"\n1 GiB chunked upload: {report['elapsed']:.2f} s in the client ({1024 / report['elapsed']:.0f} MiB/s), "
        f"peak RSS {report['peak_mib']:.1f} MiB, max parts in flight {fake.max_in_flight}"
    )
    assert report["status"] == "completed"
    assert report["peak_mib"] < 100
    assert fake.max_in_flight > 1
    (record,) = fake.uploads.values()
    assert record["md5"] == MD5_OF_1_GIB_OF_ZEROS and len(record["part_ids"]) == 16
    assert wall < 45  # ~10 s on a loaded 2-core box; the bound only catches a hang
