"""Settings from the environment: names in any case, values validated as they stand."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.settings import Settings
from highpeaks_agent.settings_names import SETTING_NAMES, sets_any_setting


def test_variables_are_read_in_any_case_and_others_are_ignored() -> None:
    settings = Settings.from_environ(
        {
            "CRASHLOOP_RESTARTS": "5",
            "flowise_url": "http://flowise:3000",
            "Http_Port": "9000",
            "PATH": "/usr/bin",
            "HOME": "/root",
        }
    )
    assert settings.crashloop_restarts == 5
    assert settings.flowise_url == "http://flowise:3000"
    assert settings.http_port == 9000
    assert settings.thresholds.crashloop_restarts == 5


def test_unset_variables_keep_their_defaults() -> None:
    assert Settings.from_environ({}) == Settings()


def test_values_are_parsed_the_way_the_readme_writes_them() -> None:
    settings = Settings.from_environ(
        {
            "WATCH_NAMESPACES": " shop, payments ,,",
            "DEBUG": "true",
            "FLOWISE_API_KEY": "s3cr3t-value",
            "PENDING_SECONDS": "90.5",
            "LOG_FORMAT": "json",
        }
    )
    assert settings.watch_namespaces == ["shop", "payments"]
    assert settings.debug is True
    assert settings.flowise_api_key.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)
    assert settings.pending_seconds == 90.5
    assert settings.log_format == "json"


def test_overrides_win_over_the_environment() -> None:
    settings = Settings.from_environ(
        {"HTTP_PORT": "9000", "WATCH_NAMESPACES": "a"}, http_port=8080, watch_namespaces=["b"]
    )
    assert (settings.http_port, settings.watch_namespaces) == (8080, ["b"])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CRASHLOOP_RESTARTS", "abc"),
        ("CRASHLOOP_RESTARTS", "0"),
        ("HTTP_PORT", "70000"),
        ("AUTH_MODE", "sometimes"),
        ("HTTP_PORT", ""),
    ],
)
def test_a_bad_value_names_its_field(name: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.from_environ({name: value})
    assert [error["loc"] for error in caught.value.errors()] == [(name.lower(),)]


def test_an_unknown_keyword_is_a_mistake_not_a_silent_default() -> None:
    with pytest.raises(ValidationError, match="crashloop_restart"):
        Settings(crashloop_restart=5)  # type: ignore[call-arg]


def test_the_names_known_without_pydantic_are_the_settings_fields() -> None:
    assert set(Settings.model_fields) == SETTING_NAMES


def test_the_default_thresholds_are_the_engines() -> None:
    assert Settings().thresholds == DEFAULT_THRESHOLDS


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ([], False),
        (["PATH", "HOME", "KUBECONFIG", "NO_COLOR"], False),
        (["PATH", "crashloop_restarts"], True),
        (["Flowise_Url"], True),
    ],
)
def test_an_environment_sets_settings_only_by_their_names(
    variables: list[str], expected: bool
) -> None:
    assert sets_any_setting(variables) is expected
