"""The official SDK's webhook example against both SDKs: Standard Webhooks vectors and every event type it knows."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import typing
from typing import Any

import msgspec
import pytest

from ._drip import SDKS, make_client

pytestmark = pytest.mark.anyio

KEY = b"whsec-test-key-0123456789abcdef!"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def official_event_types() -> list[str]:
    """Every ``type`` of the official SDK's ``UnwrapWebhookEvent`` union (31 in openai 3.57.0)."""
    from openai.types.webhooks import UnwrapWebhookEvent

    union = typing.get_args(UnwrapWebhookEvent)[0]
    return sorted(
        typing.get_args(member.model_fields["type"].annotation)[0] for member in typing.get_args(union)
    )


def signed(body: bytes, *, prefix: str = "v1,", msg_id: str = "msg_1", key: bytes = KEY) -> dict[str, str]:
    ts = str(int(time.time()))
    mac = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": prefix + mac}


def test_the_official_union_still_has_31_types() -> None:
    """The pinned official SDK knows 31 webhook event types (so the next test covers all of them)."""
    assert len(official_event_types()) == 31


@pytest.mark.parametrize("sdk", SDKS)
async def test_every_official_event_type_unwraps_alike(sdk: str) -> None:
    """The webhook example reads ``type``, ``id`` and ``data.id`` of every event type, and a newer field, alike."""
    async with make_client(sdk, "http://127.0.0.1:9/v1", webhook_secret=SECRET) as client:
        for event_type in official_event_types():
            payload = {
                "id": "evt_1",
                "object": "event",
                "created_at": 1750000000,
                "type": event_type,
                "data": {"id": "obj_1", "later": {"n": 1}},
                "added_later": True,
            }
            body = msgspec.json.encode(payload)
            # --- the official example: event = client.webhooks.unwrap(request.body, request.headers) ---
            event = client.webhooks.unwrap(body.decode(), signed(body))
            seen: list[Any] = [event.type, event.id, event.created_at, event.data.id, event.added_later]
            assert seen == [event_type, "evt_1", 1750000000, "obj_1", True], event_type
            assert event.to_dict() == payload, event_type


@pytest.mark.parametrize("sdk", SDKS)
async def test_signature_vectors_are_judged_alike(sdk: str) -> None:
    """Both SDKs accept v1 and bare entries and rotations, and refuse other schemes, tampering and wrong keys."""
    from openai import InvalidWebhookSignatureError as Official

    from openai_async import InvalidWebhookSignatureError as Ours

    refused = {"official": Official, "ours": Ours}[sdk]
    body = (
        b'{"id":"evt_1","object":"event","created_at":1750000000,"type":"batch.completed","data":{"id":"b"}}'
    )
    async with make_client(sdk, "http://127.0.0.1:9/v1", webhook_secret=SECRET) as client:
        verify = client.webhooks.verify_signature
        verify(body, signed(body))
        verify(body, signed(body, prefix=""))  # bare: the official SDK takes it as v1, and so do we
        rotated = signed(body)
        rotated["webhook-signature"] = (
            signed(body, key=b"old key")["webhook-signature"] + " " + rotated["webhook-signature"]
        )
        verify(body, rotated)
        for headers in (
            signed(body, prefix="v2,"),  # another scheme never matches the HMAC
            signed(body, key=b"another key"),
            signed(body + b" "),
            {**signed(body), "webhook-timestamp": str(int(time.time()) - 3600)},
        ):
            with pytest.raises(refused):
                verify(body, headers)
