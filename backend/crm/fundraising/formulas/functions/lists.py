"""List functions: ARRAYJOIN, ARRAYCOMPACT, ARRAYUNIQUE."""
from ..values import _checked_text, _is_blank, _text
from .registry import _function


@_function("ARRAYJOIN", "list, text?", "text",
           usage='ARRAYJOIN(list, [separator])', doc="A list's items joined into text, ', ' between them by default")
def _arrayjoin(ctx, values, separator=", "):
    items = values if isinstance(values, list) else [values]
    ctx.tick(len(items))
    return _checked_text(ctx, _text(separator).join(_text(item) for item in items if item is not None))


@_function("ARRAYCOMPACT", "list", "list",
           usage='ARRAYCOMPACT(list)', doc='A list without its blank items')
def _arraycompact(ctx, values):
    items = values if isinstance(values, list) else [values]
    ctx.tick(len(items))
    return [item for item in items if not _is_blank(item)]


@_function("ARRAYUNIQUE", "list", "list",
           usage='ARRAYUNIQUE(list)', doc='A list with each item once')
def _arrayunique(ctx, values):
    items = values if isinstance(values, list) else [values]
    ctx.tick(len(items))
    unique, seen = [], set()
    for item in items:
        key = (type(item).__name__, _text(item))
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique
