"""Sign-in tokens: HS256 JWTs with the algorithm pinned and iss/aud/exp checked (RFC 8725).

A token names the user (`sub`), the user's token version (`ver`, bumped on a
password change, deactivation or admin reset, which voids every older token)
and its own id (`jti`, listed in revoked_tokens by a sign-out).
"""
from datetime import timedelta

import jwt

from ..clock import new_id, utcnow

ISSUER = "venture-crm"
AUDIENCE = "venture-crm-api"
ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


def issue(secret: str, user: dict, ttl_hours: int) -> str:
    now = utcnow()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user["id"],
        "ver": user["token_version"],
        "jti": new_id(),
        "iat": now,
        "exp": now + timedelta(hours=ttl_hours),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode(secret: str, token: str) -> dict:
    try:
        return jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, audience=AUDIENCE,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired; sign in again") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("token is not valid; sign in again") from None
