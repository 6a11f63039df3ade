"""Errors a use case can end with; the API turns each into its status code and JSON shape."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(ServiceError):
    """Field-level problems, answered as {"field": ["message", ...]}."""

    status = 400

    def __init__(self, fields: dict[str, list[str]]) -> None:
        # The messages are whole sentences already: that is what a CLI or GUI user sees.
        super().__init__(" ".join(m for messages in fields.values() for m in messages))
        self.fields = fields


class BadRequest(ServiceError):
    status = 400


class AuthRequired(ServiceError):
    status = 401


class AccountLocked(AuthRequired):
    """The right password, but another researcher locked the account."""


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Corrupted(ServiceError):
    """Stored data failed its integrity check (a ciphertext, sealed key or binding did not
    verify): the database was changed or damaged. A conflict with the stored state, not a
    server crash, so 409; every caller audits it as denied."""

    status = 409


class Throttled(ServiceError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Request was throttled. Expected available in {retry_after} seconds.")
        self.retry_after = retry_after
