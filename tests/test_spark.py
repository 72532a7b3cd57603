"""crm.spark.chat against the stand-in model server (tests/fakes/spark.py): the request it sends,
and one SparkError, in plain words, for every way the model can fail to answer."""
import time
from dataclasses import replace

import pytest
import requests

from crm.config import Config
from crm.spark import SparkError, chat
from fakes.spark import FakeSpark

SECRET = "the side letter gives 2.5% carry"
MESSAGES = [{"role": "system", "content": "Summarise."}, {"role": "user", "content": SECRET}]


@pytest.fixture
def spark():
    with FakeSpark(reply="  The LP confirms the close.  ") as fake:
        yield fake


def settings(base_url, timeout=1) -> Config:
    return replace(Config(), spark_base_url=base_url, spark_chat_model="qwen-test", spark_timeout_sec=timeout)


def test_chat_posts_the_documented_request_and_returns_the_answers_text(spark):
    answer = chat(settings(spark.base_url), requests.Session(), MESSAGES)
    assert answer == "The LP confirms the close."
    assert spark.paths == ["/v1/chat/completions"]
    sent = spark.requests[0]
    assert sent["model"] == "qwen-test" and sent["messages"] == MESSAGES and sent["stream"] is False


@pytest.mark.parametrize("mode, words, unreachable", [
    ("down", "answered HTTP 503", False),
    ("closed", "could not be reached", True),
    ("slow", "did not answer within 1 s", True),
    ("garbage", "without choices[0].message.content", False),
    ("empty", "gave an empty answer", False),
    ("redirect", "answered HTTP 307", False),
])
def test_every_failure_is_one_spark_error_in_plain_words(spark, mode, words, unreachable, caplog):
    base = spark.closed_url if mode == "closed" else spark.base_url
    spark.mode = "answer" if mode == "closed" else mode
    with FakeSpark() as elsewhere:
        spark.redirect_to = elsewhere.base_url + "/chat/completions"
        started = time.monotonic()
        with pytest.raises(SparkError) as failed:
            chat(settings(base), requests.Session(), MESSAGES)
        assert elsewhere.requests == []  # a redirect is not followed: no other host is called
    assert words in failed.value.message and failed.value.unreachable is unreachable
    assert time.monotonic() - started < 2.0  # the slow answer is given up at the timeout
    for text in [failed.value.message] + [r.getMessage() for r in caplog.records]:
        assert SECRET not in text and "LP confirms" not in text


def test_without_a_base_url_nothing_is_called():
    with pytest.raises(SparkError) as failed:
        chat(Config(), requests.Session(), MESSAGES)
    assert "CRM_SPARK_BASE_URL" in failed.value.message and failed.value.unreachable


def test_the_stand_in_refuses_a_request_that_breaks_the_documented_shape(spark):
    r = requests.post(spark.base_url + "/chat/completions", json={"model": "x", "messages": [{"role": "robot"}]}, timeout=5)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
