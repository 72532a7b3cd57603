from .connection import change_mark, connect, transaction, rows, row  # noqa: F401
