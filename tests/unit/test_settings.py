"""Settings from the environment: names in any case, values validated as they stand."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.settings import Settings
from highpeaks_agent.settings_names import SECRET_SETTING_NAMES, SETTING_NAMES, sets_any_setting


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
        (["FLOWISE_API_KEY_FILE"], True),
        (["FLOWISE_URL_FILE", "HTTP_PORT_FILE"], False),  # only secrets have a file form
    ],
)
def test_an_environment_sets_settings_only_by_their_names(
    variables: list[str], expected: bool
) -> None:
    assert sets_any_setting(variables) is expected


# --- secrets from mounted files (*_FILE) ---------------------------------------------------


def test_the_secret_settings_are_the_secret_fields() -> None:
    secret_fields = {
        name for name, field in Settings.model_fields.items() if field.annotation is SecretStr
    }
    assert secret_fields == SECRET_SETTING_NAMES


@pytest.mark.parametrize("name", sorted(SECRET_SETTING_NAMES))
def test_each_secret_is_read_from_the_file_its_file_variable_names(
    tmp_path: Path, name: str
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("  value-from-a-file\n")  # as `echo value > file` writes it
    settings = Settings.from_environ({f"{name.upper()}_FILE": str(secret)})
    value = getattr(settings, name)
    assert value.get_secret_value() == "value-from-a-file"
    assert "value-from-a-file" not in repr(settings)


def test_the_environment_form_is_still_accepted() -> None:
    settings = Settings.from_environ({"ALERTMANAGER_TOKEN": "from-env"})
    assert settings.alertmanager_token.get_secret_value() == "from-env"


def test_a_secret_given_both_ways_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-file")
    with pytest.raises(ValidationError) as caught:
        Settings.from_environ(
            {"ALERTMANAGER_TOKEN": "from-env", "alertmanager_token_file": str(secret)}
        )
    (error,) = caught.value.errors()
    assert error["loc"] == ("alertmanager_token",)
    assert error["msg"] == "set either ALERTMANAGER_TOKEN or ALERTMANAGER_TOKEN_FILE, not both"
    assert "from-env" not in str(caught.value) and "from-file" not in str(caught.value)


def test_an_unreadable_file_names_its_variable_and_path(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.from_environ({"FLOWISE_API_KEY_FILE": str(tmp_path)})  # a directory
    (error,) = caught.value.errors()
    assert error["loc"] == ("flowise_api_key_file",)
    assert error["msg"] == f"cannot read {tmp_path} (Is a directory)"


def test_a_file_in_a_directory_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "not-mounted" / "webhook-url"
    with pytest.raises(ValidationError) as caught:
        Settings.from_environ({"NOTIFY_WEBHOOK_URL_FILE": str(path)})
    (error,) = caught.value.errors()
    assert error["loc"] == ("notify_webhook_url_file",)
    assert error["msg"] == f"cannot read {path} (No such file or directory)"


def test_a_file_absent_from_its_mounted_directory_leaves_the_secret_empty(
    tmp_path: Path,
) -> None:
    # An optional Secret (or key) that does not exist: its volume is mounted without the file.
    settings = Settings.from_environ({"NOTIFY_SLACK_WEBHOOK_URL_FILE": str(tmp_path / "url")})
    assert settings.notify_slack_webhook_url.get_secret_value() == ""


def test_a_file_that_is_not_text_is_an_error(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_bytes(b"\xff\xfe binary")
    with pytest.raises(ValidationError, match=rf"cannot read {secret} \('utf-8' codec"):
        Settings.from_environ({"FLOWISE_API_KEY_FILE": str(secret)})


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.from_environ(
            {
                "FLOWISE_API_KEY": "a",
                "FLOWISE_API_KEY_FILE": str(tmp_path / "a"),
                "ALERTMANAGER_TOKEN_FILE": str(tmp_path / "missing" / "b"),
            }
        )
    assert [e["loc"] for e in caught.value.errors()] == [
        ("alertmanager_token_file",),
        ("flowise_api_key",),
    ]
