"""The one client for an external model: Anthropic's Messages API, behind redaction.

    answer = ask_external("Summarise this thread: ...", conn, config=app.config)

Guardrail 2 (docs/SECURITY.md): un-anonymised substance stays local. Everything sent (the prompt and
the system text) is scrubbed first by one `redact.Scrubber`, so the model sees `[PERSON_1]`,
`[ORG_2]`, `[AMOUNT_3]` instead of names, addresses, phones and amounts; the answer is re-hydrated
with the same mapping. The digest never comes here (it stays on Spark, `crm.spark`);
tests/test_redaction.py fails if `crm.digest` or `crm.spark` reach this module, or if any other
module names Anthropic's host or its key header.

The request is `POST {CRM_ANTHROPIC_BASE_URL}/v1/messages` with `x-api-key`,
`anthropic-version: 2023-06-01` and a JSON body {model, max_tokens, system?, messages: [{role: user,
content}]}; the answer's text is the concatenated `text` blocks of `content`. 429, 529 and 5xx
answers, timeouts and refused connections are tried again (RETRIES times, waiting `retry-after` when
the API says, else BACKOFF_SEC doubling); redirects are not followed. Every failure is an
ExternalModelError whose message names the host and what went wrong, and never the key, the prompt
or the answer.
"""
import json
import logging
import time
from urllib.parse import urlsplit

import requests

from . import redact

log = logging.getLogger("crm.ingest.external")

API_VERSION = "2023-06-01"
RETRIES = 2                  # after the first attempt
BACKOFF_SEC = 1.0            # the first wait when the API names none; doubled each time
MAX_WAIT_SEC = 20.0          # the longest `retry-after` honoured
RETRIED_STATUSES = {429, 500, 502, 503, 504, 529}


class ExternalModelError(Exception):
    """No answer from the external model. `status` is the HTTP status when it answered one."""

    def __init__(self, message: str, status: int = None):
        super().__init__(message)
        self.message, self.status = message, status


class NotConfigured(ExternalModelError):
    """No API key is set (CRM_ANTHROPIC_API_KEY): nothing is sent anywhere."""


def configured(config) -> bool:
    return bool(config.anthropic_api_key)


def ask_external(prompt: str, conn, *, config, system: str = None, max_tokens: int = 1024, session=None) -> str:
    """The model's answer to `prompt` (and `system`), both scrubbed before they leave, the answer
    re-hydrated. `conn` reads the names the CRM knows; `config` gives the key, base URL, model and
    timeout. Raises NotConfigured without a key, ExternalModelError on any failure."""
    if not configured(config):
        raise NotConfigured("no external model is configured: set CRM_ANTHROPIC_API_KEY (StartOS: Set Anthropic API key)")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError("max_tokens must be a positive whole number")
    scrubber = redact.Scrubber(conn)
    body = {"model": config.anthropic_model, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": scrubber.scrub(prompt)}]}
    if system:
        body["system"] = scrubber.scrub(system)
    log.info("external model: asking %s, %d placeholders", config.anthropic_model, len(scrubber.mapping))
    answer = _post(config, session or requests.Session(), body)
    return redact.rehydrate(answer, scrubber.mapping)


def _post(config, session, body: dict) -> str:
    url = config.anthropic_base_url.rstrip("/") + "/v1/messages"
    where = urlsplit(url).netloc
    headers = {"x-api-key": config.anthropic_api_key, "anthropic-version": API_VERSION,
               "content-type": "application/json"}
    data = json.dumps(body).encode()
    for attempt in range(RETRIES + 1):
        last = attempt == RETRIES
        try:
            answer = session.post(url, data=data, headers=headers, timeout=config.anthropic_timeout_sec,
                                  allow_redirects=False)
        except requests.Timeout:
            problem = ExternalModelError(f"the external model at {where} did not answer within {config.anthropic_timeout_sec} s")
        except requests.RequestException:
            problem = ExternalModelError(f"the external model at {where} could not be reached")
        else:
            if answer.status_code == 200:
                return _text(answer, where)
            problem = _refusal(answer, where, config.anthropic_api_key)
            if answer.status_code not in RETRIED_STATUSES:
                raise _failed(problem)
        if last:
            raise _failed(problem)
        wait = _wait(answer if problem.status else None, attempt)
        log.warning("external model: %s; trying again in %.1f s", problem.message, wait)
        time.sleep(wait)
    raise AssertionError("unreachable")


def _text(answer, where: str) -> str:
    try:
        blocks = answer.json()["content"]
        texts = [b["text"] for b in blocks if isinstance(b, dict) and b.get("type") == "text"]
    except (ValueError, KeyError, TypeError):
        raise _failed(ExternalModelError(f"the external model at {where} gave an answer without content", 200)) from None
    if not texts or not all(isinstance(t, str) for t in texts) or not "".join(texts).strip():
        raise _failed(ExternalModelError(f"the external model at {where} gave no text", 200))
    return "".join(texts)


def _refusal(answer, where: str, key: str) -> ExternalModelError:
    """The API's error in words: its status, its error type and (key-free, shortened) message."""
    kind, said = "", ""
    try:
        error = answer.json().get("error") or {}
        kind, said = str(error.get("type") or ""), str(error.get("message") or "")
    except (ValueError, AttributeError):
        pass
    said = said.replace(key, "[key]")[:200] if key else said[:200]  # it only ever saw the scrubbed prompt
    hint = " (the API key was refused)" if answer.status_code in (401, 403) else ""
    detail = f" {kind}" if kind else ""
    detail += f": {said}" if said else ""
    return ExternalModelError(f"the external model at {where} answered HTTP {answer.status_code}{hint}{detail}",
                              answer.status_code)


def _wait(answer, attempt: int) -> float:
    retry_after = answer.headers.get("retry-after") if answer is not None else None
    try:
        return min(max(float(retry_after), 0.0), MAX_WAIT_SEC)
    except (TypeError, ValueError):
        return BACKOFF_SEC * 2 ** attempt


def _failed(problem: ExternalModelError) -> ExternalModelError:
    log.warning("external model: %s", problem.message)
    return problem
