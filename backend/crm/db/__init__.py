from .connection import connect, transaction, rows, row  # noqa: F401
