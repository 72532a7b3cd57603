"""What can go wrong: a formula that cannot be saved (FormulaError) or a cell's runtime error (FormulaValueError).

`_Fail` and `_OutOfSteps` are raised inside evaluation and end as a
FormulaValueError; `_short` quotes text in a message.
"""


class FormulaError(Exception):
    """A formula that cannot be saved: `message` says why, `position` (0-based offset or None) where,
    `end` (exclusive, or None) where the offending text ends when it is known."""

    def __init__(self, position, message: str, end=None):
        super().__init__(message)
        self.position = position
        self.message = message
        self.end = end

    def __str__(self) -> str:
        return self.message if self.position is None else f"at position {self.position}: {self.message}"


class FormulaValueError:
    """The value of a cell whose formula failed at runtime, e.g. "#DIV/0: division by zero"."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __eq__(self, other) -> bool:
        return isinstance(other, FormulaValueError) and other.message == self.message

    def __hash__(self) -> int:
        return hash(self.message)

    def __repr__(self) -> str:
        return f"FormulaValueError({self.message!r})"

    def __str__(self) -> str:
        return self.message


class _Fail(Exception):
    """A runtime error that becomes the cell's FormulaValueError (ISERROR catches it)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _OutOfSteps(Exception):
    """The step budget ran out; deliberately not a _Fail so ISERROR cannot swallow it."""


def _short(text: str, limit: int = 30) -> str:
    """`text` cut to `limit` characters, for a message."""
    return text if len(text) <= limit else text[:limit - 1] + "…"
