"""The function library: `FUNCTIONS`, every function by upper-case name, filled as each family is imported."""
from .registry import FUNCTIONS
# Importing a family registers its functions; this order keeps FUNCTIONS in the order they were written.
from . import numeric, logic, text, lists, dates  # noqa: F401

__all__ = ["FUNCTIONS"]
