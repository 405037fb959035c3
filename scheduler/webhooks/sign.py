"""The Standard Webhooks signature (https://www.standardwebhooks.com/): a secret is `whsec_` and the
base64 of random bytes; a message is signed with HMAC-SHA256 over "{id}.{timestamp}.{body}" keyed
with the secret's decoded bytes, and sent with the headers `webhook-id`, `webhook-timestamp` (Unix
seconds) and `webhook-signature: v1,<base64 of the HMAC>`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
KEY_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode("utf-8")
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body),
            "content-type": "application/json"}
