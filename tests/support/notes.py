"""What every IncidentNote must be: each fact said once, short before its details pointer."""

from __future__ import annotations

import re

from highpeaks_agent.controller.notes import NOTE_BUDGET, body_of

_NEW_VALUE = re.compile(r" -> (\S+?)[;.]?(?=\s|$)")


def assert_says_each_fact_once(message: str) -> None:
    """At most NOTE_BUDGET characters before ``(details: …)``, no change (its new value)
    named twice, no sentence repeated."""
    assert "(details: kubectl describe agenttask " in message, message
    body = body_of(message)
    assert len(body) <= NOTE_BUDGET, (len(body), body)
    for new in _NEW_VALUE.findall(body):
        assert body.count(new) == 1, f"{new!r} said more than once: {body}"
    sentences = [s for s in re.split(r"(?<=\.) ", body) if s]
    assert len(sentences) == len(set(sentences)), body
