"""The fundraising grid's formula language: parse, type-check and evaluate, with no eval or exec.

Airtable syntax: `{Field Name}` references (a one-word name may go without
braces; a bare word followed by "(" is a function), numbers, quoted text, TRUE/FALSE,
operators `+ - * / & = != < > <= >=` (`<>` is read as `!=`), parentheses and
function calls with case-insensitive names (see `FUNCTIONS`).

Contracts:
- `parse(text)` returns an AST of frozen dataclasses or raises `FormulaError`
  (a message plus a 0-based character position); nothing else escapes it.
  It enforces `LIMITS.max_length` and `LIMITS.max_nesting` (parentheses,
  function calls and unary signs each add a level).
- `check(node, field_types)` returns the result type or raises `FormulaError`.
- `evaluate(...)` returns a value or a `FormulaValueError`; bad data never
  raises. Every node evaluated (and every list item or repetition a function
  walks) is a step; past `LIMITS.max_steps` the result is an error value.
- `find_cycle` and `dependents` work on {formula column: names it references}.

One job a module, each importing only modules listed before it: `limits`
(the bounds), `errors` (what can go wrong), `nodes` (the syntax tree),
`lexer` (tokens), `parser` (text to tree and back), `value_types` (the type
vocabulary), `values` (runtime values and the runtime rules), `compare`
(comparison at run time), `functions` (the library, a module per family),
`checker` (the type rules; compiling a column's formula, explaining why one
cannot be), `formats` (how a result is shown by default), `evaluate` (one
row's value) and `dependencies` (cycles and recalculation order).
"""
from .checker import Compiled, check, compile_formula
from .dependencies import dependents, find_cycle
from .errors import FormulaError, FormulaValueError
from .evaluate import evaluate
from .formats import FORMATS, default_format
from .functions import FUNCTIONS
from .functions.registry import described as described_functions
from .limits import LIMITS, Limits
from .nodes import Binary, Boolean, Call, FieldRef, Number, String, Unary, references
from .parser import parse, unparse
from .value_types import COLUMN_VALUE_TYPES, value_type

__all__ = [
    "LIMITS", "Limits", "FormulaError", "FormulaValueError", "Number", "String", "Boolean", "FieldRef",
    "Unary", "Binary", "Call", "parse", "unparse", "references", "check", "value_type", "COLUMN_VALUE_TYPES",
    "FUNCTIONS", "described_functions", "FORMATS", "default_format", "Compiled", "compile_formula", "evaluate", "find_cycle", "dependents",
]
