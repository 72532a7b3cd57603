"""OAuth refresh tokens at rest: AES-256-GCM under the key in CRM_GMAIL_SECRET_KEY.

A sealed value is text: "v1:" then base64 of a random 12-byte nonce followed by
the ciphertext and its 16-byte tag. The version prefix is also the associated
data, so a value cannot be passed off under another version; a new scheme gets
a new prefix and `open_sealed` can keep reading the old one.
"""
import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = "v1"
_KEY_VARIABLE = "CRM_GMAIL_SECRET_KEY"


def load_key(text: str) -> bytes:
    """The 32-byte key from its base64 text (standard or URL-safe); ValueError otherwise.

    The message names the variable and the decoded length, never the value.
    """
    cleaned = (text or "").strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{_KEY_VARIABLE} is not valid base64 (it must be the base64 of 32 random bytes)") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{_KEY_VARIABLE} must be the base64 of exactly {KEY_BYTES} bytes, not {len(key)}")
    return key


def seal(key: bytes, plaintext: str) -> str:
    """`plaintext` encrypted and authenticated under `key`, with a fresh random nonce."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), VERSION.encode())
    return f"{VERSION}:" + base64.b64encode(nonce + sealed).decode("ascii")


def open_sealed(key: bytes, sealed: str) -> str:
    """The plaintext of a `seal` result; ValueError if it was altered, or sealed under another key."""
    version, sep, body = (sealed or "").partition(":")
    if not sep or version != VERSION:
        raise ValueError("not a sealed value of a known version")
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("sealed value is not valid base64") from None
    if len(data) < NONCE_BYTES + 16:
        raise ValueError("sealed value is too short")
    try:
        plain = AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], VERSION.encode())
    except InvalidTag:
        raise ValueError("sealed value failed authentication: altered, or sealed under another key") from None
    return plain.decode("utf-8")
