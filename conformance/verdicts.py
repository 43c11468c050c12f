"""What a check raises to give its verdict.

Checks do not choose between fail and warn themselves: they raise :class:`Violation` and the
level of the check decides. :class:`NotApplicable` gives a skip with its reason, and
:class:`ExchangeError` (raised by the HTTP layer) gives an error.
"""

from __future__ import annotations


class Verdict(Exception):
    """Base class: ends a check with a message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Violation(Verdict):
    """The target violated the requirement the check tests."""


class NotApplicable(Verdict):
    """The check does not apply (feature not advertised, attribute not in the schema...)."""


class ExchangeError(Verdict):
    """The exchange broke: no answer, a reset, a timeout, a body that is not JSON."""


def expect(condition: object, message: str) -> None:
    """Raise a :class:`Violation` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Violation(message)


def skip(reason: str) -> None:
    raise NotApplicable(reason)
