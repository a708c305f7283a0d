"""For webhook receivers: check that a delivery comes from the node and is fresh.

The node signs ``timestamp + "." + raw body`` with HMAC-SHA256 under the subscription's
secret. A receiver refuses a bad signature (tampered body, wrong secret) and a timestamp
older than ``tolerance`` seconds (a replayed request). Standard library only, so that a
receiver can copy this file without installing FraudX.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

DELIVERY = "X-FraudX-Delivery"
TIMESTAMP = "X-FraudX-Timestamp"
SIGNATURE = "X-FraudX-Signature"


class InvalidSignature(Exception):
    """The request is not a fresh, authentic FraudX delivery; the message says why."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = 300,
    now: float | None = None,
) -> str:
    """Return the delivery id (the idempotency key) or raise InvalidSignature."""
    lower = {k.lower(): v for k, v in headers.items()}
    stamp = lower.get(TIMESTAMP.lower(), "")
    given = lower.get(SIGNATURE.lower(), "")
    if not stamp.isdigit() or not given:
        raise InvalidSignature("missing timestamp or signature header")
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance: a replay or a skewed clock")
    if not hmac.compare_digest(sign(secret, int(stamp), body), given):
        raise InvalidSignature("signature does not match the body")
    return lower.get(DELIVERY.lower(), "")
