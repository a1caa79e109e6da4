"""LOG_FORMAT: text (default) or one JSON object per line, from every logger, never a secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from kopf._cogs.configs.configuration import OperatorSettings
from kopf._core.actions.loggers import ObjectLogger

from highpeaks_agent import tracing
from highpeaks_agent.logging_setup import configure_logging, log_context
from highpeaks_agent.settings import Settings

from .conftest import Recorded

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
URL_WITH_PASSWORD = "postgres://orders:s3cr3t-pw@db.shop:5432/orders"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_the_default_is_text_and_json_is_the_only_other_format() -> None:
    assert Settings().log_format == "text"
    assert Settings(log_format="json").log_format == "json"
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")


@pytest.mark.usefixtures("restore_logging")
def test_every_logger_writes_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", debug=False)
    logging.getLogger("highpeaks_agent.controller.incidents").warning("two\nlines %s", 2)
    logging.getLogger("kopf.activities.startup").info("Activity 'configure' succeeded.")
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://0.0.0.0:8000")
    logging.getLogger("kubernetes.client.rest").debug("response body: ...")  # below WARNING

    records = lines(capsys.readouterr().err)
    assert [r["logger"] for r in records] == [
        "highpeaks_agent.controller.incidents",
        "kopf.activities.startup",
        "uvicorn.error",
    ]
    assert records[0]["message"] == "two\nlines 2" and records[0]["level"] == "WARNING"
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in records)
    assert str(records[0]["time"]).endswith("+00:00")


@pytest.mark.usefixtures("restore_logging")
def test_kopf_object_loggers_name_the_object_and_the_task(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", debug=False)
    body = {
        "apiVersion": "devops.highpeaks.io/v1alpha1",
        "kind": "AgentTask",
        "metadata": {"name": "why-checkout", "namespace": "shop", "uid": "u-1"},
    }
    ObjectLogger(body=body, settings=OperatorSettings()).info("Handler 'run_task' succeeded.")
    with (
        log_context(kind="Deployment", namespace="shop", name="checkout"),
        log_context(agenttask="shop/incident-checkout-r2"),
    ):
        logging.getLogger("highpeaks_agent.service").info("looked")
    logging.getLogger("highpeaks_agent.service").info("outside")

    task_line, bound, outside = lines(capsys.readouterr().err)
    assert task_line["object"] == {"kind": "AgentTask", "namespace": "shop", "name": "why-checkout"}
    assert task_line["agenttask"] == "shop/why-checkout"
    assert bound["object"] == {"kind": "Deployment", "namespace": "shop", "name": "checkout"}
    assert bound["agenttask"] == "shop/incident-checkout-r2"
    assert "object" not in outside and "agenttask" not in outside


@pytest.mark.parametrize("log_format", ["json", "text"])
@pytest.mark.usefixtures("restore_logging")
def test_secrets_never_reach_the_log(log_format: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(log_format, debug=False)  # type: ignore[arg-type]
    log = logging.getLogger("highpeaks_agent.flowise.bridge")
    log.warning("Flowise said: Authorization: Bearer %s", TOKEN)
    try:
        raise ConnectionError(f"cannot reach {URL_WITH_PASSWORD}")
    except ConnectionError:
        log.exception("calling out failed")

    err = capsys.readouterr().err
    assert TOKEN not in err and "s3cr3t-pw" not in err
    assert "[REDACTED" in err
    if log_format == "json":
        warning, failure = lines(err)
        assert "[REDACTED" in str(warning["message"])
        assert "ConnectionError" in str(failure["exception"])


@pytest.mark.usefixtures("restore_logging")
def test_lines_logged_inside_a_span_carry_its_ids(
    recorded: Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json", debug=False)
    with tracing.span("highpeaks.diagnosis"):
        logging.getLogger("highpeaks_agent.service").info("inside")
    (line,) = lines(capsys.readouterr().err)
    span = recorded.one("highpeaks.diagnosis")
    assert line["trace_id"] == f"{span.context.trace_id:032x}"
    assert line["span_id"] == f"{span.context.span_id:016x}"
