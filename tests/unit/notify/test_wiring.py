"""The operator builds the sinks that are configured, hands them to the incident monitor,
and stops them at shutdown; /alertmanager is always served."""

from __future__ import annotations

from kubernetes import client

from highpeaks_agent.controller.handlers import shutdown
from highpeaks_agent.main import build_services
from highpeaks_agent.notify.notifier import Notifier
from highpeaks_agent.settings import Settings


async def test_no_url_no_notifier() -> None:
    services, app = build_services(Settings(), client.ApiClient())
    assert services.notifier is None
    assert services.incidents._notifier is None
    assert "/alertmanager" in app.openapi()["paths"]
    await shutdown(memo=services)


async def test_configured_sinks_are_built_and_closed_at_shutdown() -> None:
    settings = Settings(
        notify_webhook_url="http://hooks.example/incidents",
        notify_slack_webhook_url="https://hooks.slack.com/services/T000/B000/XXXX",
    )
    services, _ = build_services(settings, client.ApiClient())
    notifier = services.notifier
    assert isinstance(notifier, Notifier)
    assert notifier.sinks == ("webhook", "slack")
    assert services.incidents._notifier is notifier
    assert "XXXX" not in repr(settings) and "XXXX" not in repr(notifier._sinks)
    await shutdown(memo=services)
    assert notifier._http.is_closed
