"""The bounds on a formula: its length and nesting, and the steps and text one evaluation may use."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_length: int = 4_000      # characters of formula text
    max_nesting: int = 40        # parentheses, calls and unary signs inside each other
    max_steps: int = 20_000      # evaluation steps per cell
    max_text: int = 100_000      # characters in any text value built while evaluating


LIMITS = Limits()
