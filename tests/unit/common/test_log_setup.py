"""The logging setup (services/common/log_setup.py): JSON lines with the context fields, the
text format unchanged, and the context restored after its block."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from services.common.log_setup import JsonFormatter, current_context, log_context, setup_logging


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def emit(formatter: logging.Formatter, message: str, *args: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.log_setup")
    logger.addHandler(handler)
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_json_line_carries_the_context_fields() -> None:
    with log_context(tenant="dev", pod="web1", request_id="req-1"):
        line = json.loads(emit(JsonFormatter("spawner"), "pod %s: container %s", "web1", "created"))
    assert line["message"] == "pod web1: container created"
    assert line["level"] == "WARNING"
    assert line["process"] == "spawner"
    assert line["logger"] == "tests.log_setup"
    assert (line["tenant"], line["pod"], line["request_id"]) == ("dev", "web1", "req-1")
    assert line["time"].endswith("+00:00")


def test_a_json_line_without_context_has_no_empty_fields_and_keeps_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("api"))
    logger = logging.getLogger("tests.log_setup.exc")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("bad")
        except ValueError:
            logger.exception("crashed")
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert "pod" not in line and "tenant" not in line
    assert "ValueError: bad" in line["exc"]


def test_the_context_is_restored_after_its_block_and_empty_values_are_skipped() -> None:
    with log_context(tenant="dev", pod="outer"):
        with log_context(pod="inner", request_id=""):
            assert current_context() == {"tenant": "dev", "pod": "inner"}
        assert current_context() == {"tenant": "dev", "pod": "outer"}
    assert current_context() == {}


async def test_each_task_has_its_own_context() -> None:
    async def handle(pod: str) -> dict[str, str]:
        with log_context(pod=pod):
            await asyncio.sleep(0.01)
            return current_context()

    assert list(await asyncio.gather(handle("a"), handle("b"))) == [{"pod": "a"}, {"pod": "b"}]


def test_setup_logging_chooses_the_format() -> None:
    setup_logging("health", "json")
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)
    setup_logging("health")
    formatter = logging.getLogger().handlers[0].formatter
    assert formatter is not None and not isinstance(formatter, JsonFormatter)
    record = logging.LogRecord("x", logging.INFO, "f", 1, "hello", None, None)
    assert formatter.format(record).endswith(" health INFO hello")
