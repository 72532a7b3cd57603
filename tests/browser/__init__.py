"""Browser tests (a package so this conftest never shadows tests/conftest.py)."""
