"""Webhook deliveries: verify their Standard Webhooks signature, then decode the typed event.

A delivery carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` headers. The
signature header holds one or more space-separated ``v1,<base64 HMAC-SHA256>`` entries, each computed over
``f"{id}.{timestamp}.{body}"`` with the secret (``whsec_`` + base64 key). Any matching entry verifies; the
timestamp must lie within ``tolerance`` seconds of now, which stops replays.

An entry without a version prefix (a bare ``<base64>``) is checked as a ``v1`` signature, as the official SDK
does: the prefix only names the scheme, and the entry must still be the HMAC of this payload under this secret,
so accepting it lets no forged or replayed delivery through. An entry naming another scheme (``v1a,``, ``v2,``)
never matches, since only HMAC-SHA256 is computed here.

``unwrap`` keeps what a newer sender adds: an event type this release does not know comes back as a ``Loose``
(``ev.data.id`` works), and a known event keeps its undeclared fields, nested ones included (see
``_helpers/drift.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

import msgspec

from .._core.decode import decode
from .._core.errors import InvalidWebhookSignatureError
from .._core.resource import APIResource
from .drift import with_extras

__all__ = ["Webhooks"]


class Webhooks(APIResource):
    """``client.webhooks``: check that a request really comes from OpenAI, then read its event."""

    def verify_signature(
        self,
        payload: str | bytes,
        headers: Mapping[str, str],
        *,
        secret: str | None = None,
        tolerance: int = 300,
    ) -> None:
        """Raise ``InvalidWebhookSignatureError`` unless ``payload`` is signed by ``secret`` and recent.

        Args:
            payload: the raw request body, exactly as received.
            headers: the request headers (any mapping; names are matched case-insensitively).
            secret: the endpoint's signing secret; defaults to the client's ``webhook_secret``
                (``OPENAI_WEBHOOK_SECRET``).
            tolerance: how many seconds the timestamp may differ from now.
        """
        secret = secret if secret is not None else self._client.webhook_secret
        if not secret:
            raise ValueError(
                "No webhook secret: pass secret=... or set the OPENAI_WEBHOOK_SECRET environment variable"
            )
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            msg_id = lower["webhook-id"]
            stamp = lower["webhook-timestamp"]
            signatures = lower["webhook-signature"]
        except KeyError as exc:
            raise InvalidWebhookSignatureError(f"Missing required header: {exc.args[0]}") from None
        try:
            sent_at = int(stamp)
        except ValueError:
            raise InvalidWebhookSignatureError("Invalid webhook-timestamp header") from None
        now = int(time.time())
        if sent_at < now - tolerance:
            raise InvalidWebhookSignatureError("Webhook timestamp is too old")
        if sent_at > now + tolerance:
            raise InvalidWebhookSignatureError("Webhook timestamp is too new")
        body = payload.encode() if isinstance(payload, str) else payload
        signed = f"{msg_id}.{stamp}.".encode() + body
        expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
        for entry in signatures.split():
            version, comma, value = entry.partition(",")
            if not comma:  # a bare signature: v1 (see the module docstring)
                version, value = "v1", entry
            if version == "v1" and hmac.compare_digest(value.encode(), expected):
                return
        raise InvalidWebhookSignatureError("The signature does not match the payload")

    def unwrap(
        self,
        payload: str | bytes,
        headers: Mapping[str, str],
        *,
        secret: str | None = None,
        tolerance: int = 300,
    ) -> Any:
        """Verify ``payload`` (see ``verify_signature``) and decode it into its typed webhook event.

        An event type this version does not know is returned as a ``Loose`` (the raw dict, readable by attribute:
        ``event.data.id``), never an error; fields a known event does not declare are kept on it.
        """
        self.verify_signature(payload, headers, secret=secret, tolerance=tolerance)
        event = decode(payload, _event_union())
        raw = msgspec.json.decode(payload)
        return with_extras(event, raw, deep=True) if isinstance(raw, dict) else event


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :])
        except binascii.Error:
            raise ValueError("The webhook secret is not valid base64 after its whsec_ prefix") from None
    return secret.encode()


@cache
def _event_union() -> Any:
    from ..types import webhooks as module  # lazy: cold start (the event types load on the first unwrap)

    events = tuple(
        cls
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, msgspec.Struct)
        and cls.__struct_config__.tag is not None
        and cls.__module__ == module.__name__
    )
    from typing import Union

    return Union[events] if events else dict  # noqa: UP007 - a runtime union of a tuple of classes
