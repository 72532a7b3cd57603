"""Password hashing: bcrypt (cost 12) for new hashes; legacy PBKDF2 still verifies.

bcrypt reads at most 72 bytes, so a longer password is refused rather than
silently truncated. Hashes imported from the original system in the form
`pbkdf2_sha256$<iterations>$<salt>$<base64 digest>` verify, and `needs_rehash`
tells the caller to replace them with bcrypt after a successful sign-in.
"""
import base64
import hashlib
import hmac

import bcrypt

from ..errors import Invalid

BCRYPT_ROUNDS = 12
MIN_LENGTH = 10
MAX_BYTES = 72
# Verified against when the user does not exist, so a miss costs as much as a hit.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def check_policy(password, field="password") -> str:
    if not isinstance(password, str):
        raise Invalid({field: "must be a string"})
    if len(password) < MIN_LENGTH:
        raise Invalid({field: f"must be at least {MIN_LENGTH} characters"})
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise Invalid({field: f"must be at most {MAX_BYTES} bytes (bcrypt's limit); use a shorter passphrase"})
    return password


def hash_password(password: str, field: str = "password") -> str:
    """bcrypt hash of a password that meets the policy (422 naming `field` if not)."""
    check_policy(password, field)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def verify_password(password: str, stored: str) -> bool:
    if not isinstance(password, str) or not stored:
        bcrypt.checkpw(b"x", _DUMMY_HASH.encode())
        return False
    encoded = password.encode("utf-8")
    if stored.startswith("pbkdf2_sha256$"):
        return _verify_pbkdf2(encoded, stored)
    if len(encoded) > MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, stored.encode("ascii"))
    except ValueError:
        return False


def burn_time() -> None:
    """Spend a bcrypt verification's time (for unknown usernames)."""
    bcrypt.checkpw(b"x", _DUMMY_HASH.encode())


def needs_rehash(stored: str) -> bool:
    if not stored.startswith("$2"):
        return True
    try:
        return int(stored.split("$")[2]) < BCRYPT_ROUNDS
    except (IndexError, ValueError):
        return True


def legacy_pbkdf2_hash(password: str, salt: str, iterations: int = 260_000) -> str:
    """Produce a legacy-format hash (used by imports and tests of the upgrade path)."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def _verify_pbkdf2(password: bytes, stored: str) -> bool:
    try:
        _, iterations, salt, expected = stored.split("$", 3)
        digest = hashlib.pbkdf2_hmac("sha256", password, salt.encode("utf-8"), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(base64.b64encode(digest).decode(), expected)
