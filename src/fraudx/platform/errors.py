"""One exception tree for the whole domain.

Domain code raises these; each edge translates them once: the HTTP API into RFC 9457
problem documents, the TAXII endpoints into TAXII error resources, the command line
into one line on stderr and a non-zero exit. Pure Python: no framework imports here.
"""

from __future__ import annotations


class FraudXError(Exception):
    """Base of every error FraudX raises on purpose."""

    #: Short, stable, human title of the problem type (RFC 9457 ``title``).
    title = "FraudX error"
    #: Last path segment of the problem type URI (RFC 9457 ``type``).
    slug = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(FraudXError):
    """A request field is wrong; ``field`` names it (dotted path) and ``reason`` says why."""

    title = "Invalid input"
    slug = "invalid-input"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidIdentifier(InvalidInput):
    """A raw value cannot be read as an identifier of the given kind."""

    title = "Invalid identifier"
    slug = "invalid-identifier"

    def __init__(self, kind: str, raw: str, reason: str) -> None:
        FraudXError.__init__(self, f"invalid {kind} {raw!r}: {reason}")
        self.field = "value"
        self.kind = kind
        self.raw = raw
        self.reason = reason


class NotAuthenticated(FraudXError):
    """No credentials, or credentials that are unknown, revoked or malformed."""

    title = "Not authenticated"
    slug = "not-authenticated"


class NotPermitted(FraudXError):
    """The caller is known but its role or agency may not do this."""

    title = "Not permitted"
    slug = "not-permitted"


class NotFound(FraudXError):
    """The record does not exist, or the caller may not know that it exists."""

    title = "Not found"
    slug = "not-found"


class Conflict(FraudXError):
    """The request contradicts the current state (a duplicate, a blocked change)."""

    title = "Conflict"
    slug = "conflict"


class StaleWrite(Conflict):
    """The record changed since the caller read it (ETag / If-Match mismatch)."""

    title = "Stale write"
    slug = "stale-write"


class ConfigurationError(FraudXError):
    """The node's configuration is unusable; says which setting and why."""

    title = "Configuration error"
    slug = "configuration-error"
