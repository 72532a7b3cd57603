"""Who is calling, and may they call this route.

Every request re-reads the user row: an inactive user, a bumped token version
(password change, reset) or a signed-out token id fails at once, and the role
used for authorisation is the stored one, never a claim in the token.
"""
from ..errors import Forbidden, Unauthorized
from . import tokens, users

ROLES_FOR = {
    "any": {"admin", "member", "bot"},
    "user": {"admin", "member"},
    "admin": {"admin"},
    "bot_or_admin": {"admin", "bot"},
}


def bearer_token(req):
    header = req.headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(req, required: bool):
    """The signed-in user for this request, or None on a public route without a valid token."""
    token = bearer_token(req)
    if token is None:
        if required:
            raise Unauthorized("sign in first: send Authorization: Bearer <token>")
        return None
    try:
        claims = req.signed_claims or tokens.decode(req.config.secret_key, token)
        user = users.get(req.db, claims["sub"])
        if user is None or not user["is_active"]:
            raise tokens.InvalidToken("this account is not active")
        if claims.get("ver") != user["token_version"] or users.is_revoked(req.db, claims["jti"]):
            raise tokens.InvalidToken("this sign-in has ended; sign in again")
    except tokens.InvalidToken as exc:
        if required:
            raise Unauthorized(str(exc)) from None
        return None
    req.token_claims = claims
    return user


def authorize(user, level: str) -> None:
    if level == "public":
        return
    if user["role"] not in ROLES_FOR[level]:
        raise Forbidden("your role may not do this" if level != "admin" else "admins only")
