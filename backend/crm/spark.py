"""The local model server ("Spark"): one OpenAI-compatible chat call, and the one error it raises.

Un-anonymised substance (real LP names, what an email says) may go to this server and to no
other: the only URL called is `CRM_SPARK_BASE_URL` + `/chat/completions`, and redirects are not
followed. Callers keep a deterministic text to fall back on, since the model may be switched
off, unreachable, slow or answer nonsense; `SparkError` says which, in plain words that never
include the prompt or the answer.
"""
import logging
from urllib.parse import urlsplit

import requests

log = logging.getLogger("crm.spark")


class SparkError(Exception):
    """No usable answer from the local model. `unreachable` is True when it did not answer at all
    (not configured, connection refused, timed out): asking it again right away is pointless."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.message, self.unreachable = message, unreachable


def configured(config) -> bool:
    return bool(config.spark_base_url)


def chat(config, session, messages: list, *, max_tokens: int = 200, temperature: float = 0.2) -> str:
    """POST `messages` ([{role, content}]) to {CRM_SPARK_BASE_URL}/chat/completions with
    CRM_SPARK_CHAT_MODEL and CRM_SPARK_TIMEOUT_SEC; returns choices[0].message.content, stripped.
    Raises SparkError on no base URL, a connection error, a timeout, a status other than 200,
    an answer that is not JSON, or one without non-empty text."""
    if not configured(config):
        raise SparkError("no local model is configured (CRM_SPARK_BASE_URL)", unreachable=True)
    url = config.spark_base_url.rstrip("/") + "/chat/completions"
    where = urlsplit(url).netloc
    payload = {"model": config.spark_chat_model, "messages": messages, "max_tokens": max_tokens,
               "temperature": temperature, "stream": False}
    try:
        answer = session.post(url, json=payload, timeout=config.spark_timeout_sec, allow_redirects=False)
    except requests.Timeout:
        raise _failed(f"the local model at {where} did not answer within {config.spark_timeout_sec} s", True) from None
    except requests.RequestException:
        raise _failed(f"the local model at {where} could not be reached", True) from None
    if answer.status_code != 200:
        raise _failed(f"the local model at {where} answered HTTP {answer.status_code}")
    try:
        content = answer.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise _failed(f"the local model at {where} gave an answer without choices[0].message.content") from None
    if not isinstance(content, str) or not content.strip():
        raise _failed(f"the local model at {where} gave an empty answer")
    return content.strip()


def _failed(message: str, unreachable: bool = False) -> SparkError:
    log.warning("local model: %s", message)
    return SparkError(message, unreachable)
