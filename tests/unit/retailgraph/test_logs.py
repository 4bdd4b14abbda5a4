"""Every line of a process, structlog's and the standard library's, goes out in one format
with the context bound while a request or a posting is handled."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from structlog.contextvars import bound_contextvars

from kernel import correlation
from retailgraph.logs import configure_logging
from retailgraph.settings import LoggingSettings


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    yield buffer
    configure_logging(LoggingSettings(), default_format="console")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_standard_library_lines_are_json_with_the_bound_correlation_id(
    output: io.StringIO,
) -> None:
    configure_logging(LoggingSettings(), default_format="json", stream=output)
    with bound_contextvars(correlation_id="corr-7"):
        logging.getLogger("erp.posting.worker").warning("posting %s failed", "RG-1")
    [line] = [json.loads(text) for text in output.getvalue().splitlines()]
    assert line["event"] == "posting RG-1 failed"
    assert line["level"] == "warning"
    assert line["logger"] == "erp.posting.worker"
    assert line["correlation_id"] == "corr-7"


def test_a_subgraphs_lines_carry_the_correlation_id_of_the_request_it_serves(
    output: io.StringIO,
) -> None:
    configure_logging(LoggingSettings(), default_format="json", stream=output)

    def serve() -> None:
        correlation.bind("corr-8")
        structlog.get_logger().info("reserved", sku="MUG-1")

    contextvars.copy_context().run(serve)  # the id stays this request's
    [line] = [json.loads(text) for text in output.getvalue().splitlines()]
    assert (line["event"], line["sku"], line["correlation_id"]) == ("reserved", "MUG-1", "corr-8")


def test_the_console_format_is_for_reading_and_the_level_filters(output: io.StringIO) -> None:
    configure_logging(LoggingSettings(level="warning"), default_format="console", stream=output)
    logging.getLogger("retailgraph").info("not shown")
    logging.getLogger("retailgraph").warning("the ERP is unreachable")
    text = output.getvalue()
    assert "not shown" not in text
    assert "the ERP is unreachable" in text
    assert not text.lstrip().startswith("{")
