"""The name of every setting, known without importing pydantic.

``diagnose PATH`` validates the environment only when it sets one of these: with none set,
every default holds and the thresholds are the engine's own, so a post-mortem starts without
loading pydantic at all (CONTRACT §1a). A test keeps this set equal to ``Settings``' fields.
"""

from __future__ import annotations

from collections.abc import Iterable

SETTING_NAMES = frozenset(
    {
        "alertmanager_max_alerts",
        "alertmanager_max_body_bytes",
        "alertmanager_token",
        "assist_default_namespace",
        "assist_max_body_bytes",
        "assist_max_query_chars",
        "assist_rate_limit_per_minute",
        "assist_unauthenticated_rate_limit_per_minute",
        "auth_cache_seconds",
        "auth_mode",
        "crashloop_restarts",
        "debug",
        "flow_max_steps",
        "flowise_api_key",
        "flowise_breaker_cooldown_seconds",
        "flowise_breaker_failures",
        "flowise_connect_timeout_seconds",
        "flowise_flow_id",
        "flowise_max_concurrency",
        "flowise_max_request_bytes",
        "flowise_max_response_bytes",
        "flowise_max_retries",
        "flowise_timeout_seconds",
        "flowise_url",
        "http_port",
        "incident_debounce_seconds",
        "kube_request_timeout_seconds",
        "log_format",
        "log_tail_bytes",
        "log_tail_lines",
        "max_concurrent_diagnoses",
        "mcp_url",
        "not_ready_seconds",
        "notify_backoff_seconds",
        "notify_max_attempts",
        "notify_queue_size",
        "notify_slack_webhook_url",
        "notify_timeout_seconds",
        "notify_webhook_url",
        "peering",
        "pending_seconds",
        "recovered_seconds",
        "resync_seconds",
        "watch_namespace_selector",
        "watch_namespaces",
    }
)


#: The settings that are secrets: each may be read from the file ``NAME_FILE`` names instead.
SECRET_SETTING_NAMES = frozenset(
    {"alertmanager_token", "flowise_api_key", "notify_slack_webhook_url", "notify_webhook_url"}
)
FILE_SUFFIX = "_file"


def sets_any_setting(variables: Iterable[str]) -> bool:
    """Whether any of these environment variable names (in any case) names a setting, or the
    file of a secret one."""
    return any(_names_a_setting(name.lower()) for name in variables)


def _names_a_setting(name: str) -> bool:
    if name in SETTING_NAMES:
        return True
    return name.endswith(FILE_SUFFIX) and name.removesuffix(FILE_SUFFIX) in SECRET_SETTING_NAMES
