"""Webhook signature vectors: valid, tampered, expired, several signatures, secrets with and without whsec_."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import msgspec
import pytest

from openai_async import AsyncOpenAI, InvalidWebhookSignatureError

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
BODY = b'{"id":"evt_1","object":"event","type":"response.completed","created_at":1750000000,"data":{"id":"resp_1"}}'


def sign(body: bytes, ts: int, msg_id: str = "msg_1", key: bytes = KEY) -> str:
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(ts: int, signature: str) -> dict[str, str]:
    return {"Webhook-Id": "msg_1", "Webhook-Timestamp": str(ts), "Webhook-Signature": signature}


@pytest.fixture
def client() -> AsyncOpenAI:
    return AsyncOpenAI(api_key="k", webhook_secret=SECRET)


def test_valid_signature_unwraps_to_typed_event(client: AsyncOpenAI) -> None:
    """A correctly signed, fresh payload verifies and decodes into its typed event."""
    now = int(time.time())
    event = client.webhooks.unwrap(BODY, headers(now, sign(BODY, now)))
    assert type(event).__name__ == "WebhookResponseCompleted"
    assert event.data.id == "resp_1"


def test_any_of_several_signatures_may_match(client: AsyncOpenAI) -> None:
    """The header may list several v1 entries (key rotation): one match is enough."""
    now = int(time.time())
    other = sign(BODY, now, key=b"old-key")
    client.webhooks.verify_signature(BODY.decode(), headers(now, f"{other} v1,garbage {sign(BODY, now)}"))


def test_tampered_payload_is_rejected(client: AsyncOpenAI) -> None:
    """Changing one byte of the body breaks the signature."""
    now = int(time.time())
    with pytest.raises(InvalidWebhookSignatureError, match="does not match"):
        client.webhooks.verify_signature(BODY.replace(b"resp_1", b"resp_2"), headers(now, sign(BODY, now)))


def test_expired_and_future_timestamps_are_rejected(client: AsyncOpenAI) -> None:
    """A timestamp outside the tolerance is refused even with a valid signature (replay protection)."""
    old = int(time.time()) - 301
    with pytest.raises(InvalidWebhookSignatureError, match="too old"):
        client.webhooks.verify_signature(BODY, headers(old, sign(BODY, old)))
    future = int(time.time()) + 600
    with pytest.raises(InvalidWebhookSignatureError, match="too new"):
        client.webhooks.verify_signature(BODY, headers(future, sign(BODY, future)))
    client.webhooks.verify_signature(BODY, headers(old, sign(BODY, old)), tolerance=3600)


def test_missing_header_and_missing_secret() -> None:
    """A missing header is named; a missing secret names OPENAI_WEBHOOK_SECRET."""
    client = AsyncOpenAI(api_key="k", webhook_secret=SECRET)
    with pytest.raises(InvalidWebhookSignatureError, match="webhook-signature"):
        client.webhooks.verify_signature(BODY, {"webhook-id": "m", "webhook-timestamp": "1"})
    with pytest.raises(ValueError, match="OPENAI_WEBHOOK_SECRET"):
        AsyncOpenAI(api_key="k").webhooks.verify_signature(BODY, {})


def test_unknown_event_type_does_not_raise(client: AsyncOpenAI) -> None:
    """An event type newer than this package still unwraps, with its fields reachable by attribute and key."""
    body = b'{"id":"evt_9","type":"brand.new.event","created_at":1,"data":{"id":"x"}}'
    now = int(time.time())
    event = client.webhooks.unwrap(body, headers(now, sign(body, now)))
    assert event.type == "brand.new.event" and event.data.id == "x" and event["data"]["id"] == "x"
    assert event.to_dict() == msgspec.json.decode(body)
