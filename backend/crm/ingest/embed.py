"""Dense vectors from an OpenAI-compatible embedding server (the fund's own, "Spark", by default).

`POST {CRM_EMBED_URL}/embeddings` with `{"model": CRM_EMBED_MODEL, "input": [texts]}`; the answer's
`data` holds one `{"index", "embedding"}` per input. Texts go in batches of BATCH_SIZE; a batch
answered 429 or 5xx (a busy or restarting server) is tried again up to RETRIES times (waiting
backoff_base × 2^attempt); a timeout or a refused connection is not (the server is off: waiting
longer only holds up the run, which goes on sparse-only). `EmbedError` says why, in words that
never include the texts. Redirects are not followed: the texts go to the configured server and no other.
"""
import logging
import time
from urllib.parse import urlsplit

import requests

log = logging.getLogger("crm.ingest.embed")

BATCH_SIZE = 32  # inputs per request: bge-m3 servers take 32-64 comfortably
RETRIES = 2      # after the first try


class EmbedError(Exception):
    """No usable embeddings. `unreachable`: the server did not answer at all (asking again at once is pointless)."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.message, self.unreachable = message, unreachable


class Embedder:
    def __init__(self, base_url: str, model: str, timeout: float = 30, batch_size: int = BATCH_SIZE,
                 retries: int = RETRIES, backoff_base: float = 0.5, session=None):
        self.url = base_url.rstrip("/") + "/embeddings"
        self.where = urlsplit(self.url).netloc
        self.model, self.timeout, self.batch_size = model, timeout, batch_size
        self.retries, self.backoff_base = retries, backoff_base
        self.session = session or requests.Session()

    def embed(self, texts: list) -> list:
        """One vector (a list of floats) per text, in order. Raises EmbedError."""
        vectors = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._batch(texts[start:start + self.batch_size]))
        return vectors

    def _batch(self, texts: list) -> list:
        attempt = 0
        while True:
            try:
                return self._ask(texts)
            except _Retry as exc:
                if attempt >= self.retries:
                    raise EmbedError(exc.message) from None
                time.sleep(self.backoff_base * 2 ** attempt)
                attempt += 1

    def _ask(self, texts: list) -> list:
        try:
            answer = self.session.post(self.url, json={"model": self.model, "input": texts}, timeout=self.timeout,
                                       allow_redirects=False)
        except requests.Timeout:
            raise EmbedError(f"the embedding server at {self.where} did not answer within {self.timeout} s", True) from None
        except requests.RequestException:
            raise EmbedError(f"the embedding server at {self.where} could not be reached", True) from None
        if answer.status_code == 429 or answer.status_code >= 500:
            raise _Retry(f"the embedding server at {self.where} answered HTTP {answer.status_code}")
        if answer.status_code != 200:
            raise EmbedError(f"the embedding server at {self.where} answered HTTP {answer.status_code}"
                             f" (model {self.model!r})")
        return self._vectors(answer, len(texts))

    def _vectors(self, answer, wanted: int) -> list:
        try:
            data = answer.json()["data"]
            by_index = {item["index"]: item["embedding"] for item in data}
            vectors = [by_index[i] for i in range(wanted)]
        except (ValueError, KeyError, TypeError):
            raise EmbedError(f"the embedding server at {self.where} gave an answer without data[].embedding"
                             f" for every input") from None
        sizes = {len(v) for v in vectors}
        if len(sizes) != 1 or 0 in sizes or not all(isinstance(x, (int, float)) for v in vectors for x in v):
            raise EmbedError(f"the embedding server at {self.where} gave vectors of no single size")
        return [[float(x) for x in v] for v in vectors]


class _Retry(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def from_config(config, session=None):
    """The Embedder CRM_EMBED_URL (else CRM_SPARK_BASE_URL) names, or None when neither is set."""
    base_url = config.embed_url or config.spark_base_url
    if not base_url:
        return None
    return Embedder(base_url, config.embed_model, timeout=config.embed_timeout_sec, session=session)
