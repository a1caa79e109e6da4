"""The request we send to the flow: redacted diagnoses and the question, at most N bytes.

The flow's prompt wraps this JSON as untrusted data. Trimming is deterministic and drops the
least useful parts first: evidence lines beyond the first, then suggestions, then findings
beyond the root cause, then whole diagnoses beyond the worst.
"""

from __future__ import annotations

import json
from typing import Any

from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.explain import ExplainRequest

MAX_LINE = 400


def _diagnosis(d: Any) -> dict[str, Any]:
    data = d.to_json_dict()
    return {
        "target": data["target"],
        "severity": data["severity"],
        "summary": data["summary"],
        "findings": [
            {
                "code": f["code"],
                "title": f["title"],
                "evidence": [line[:MAX_LINE] for line in f["evidence"]],
                "suggestion": f["suggestion"],
            }
            for f in data["findings"]
        ],
        **({"rolloutChanges": data["rollout"]["changes"]} if data.get("rollout") else {}),
    }


def _encode(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def render_request(request: ExplainRequest, max_bytes: int) -> str:
    """The ``question`` field of the prediction call: compact JSON within ``max_bytes``."""
    document: dict[str, Any] = {
        "scope": request.scope,
        "question": (request.question or "")[:2000],
        "diagnoses": [_diagnosis(d) for d in request.diagnoses if d.findings][:10],
    }
    trims = (_keep_first_evidence, _drop_suggestions, _keep_root_findings, _keep_worst_diagnosis)
    text = redact_text(_encode(document))
    for trim in trims:
        if len(text.encode()) <= max_bytes:
            return text
        trim(document)
        text = redact_text(_encode(document))
    while len(text.encode()) > max_bytes and document["question"]:
        document["question"] = document["question"][: len(document["question"]) // 2]
        text = redact_text(_encode(document))
    if len(text.encode()) > max_bytes:
        for diagnosis in document["diagnoses"]:
            diagnosis["summary"] = diagnosis["summary"][:200]
            for finding in diagnosis["findings"]:
                finding["evidence"] = [line[:120] for line in finding["evidence"]]
        text = redact_text(_encode(document))
    return text


def _keep_first_evidence(document: dict[str, Any]) -> None:
    for diagnosis in document["diagnoses"]:
        for finding in diagnosis["findings"]:
            finding["evidence"] = finding["evidence"][:2]


def _drop_suggestions(document: dict[str, Any]) -> None:
    for diagnosis in document["diagnoses"]:
        for finding in diagnosis["findings"]:
            finding.pop("suggestion", None)
        diagnosis.get("rolloutChanges", [])[5:] = []


def _keep_root_findings(document: dict[str, Any]) -> None:
    for diagnosis in document["diagnoses"]:
        diagnosis["findings"] = diagnosis["findings"][:1]


def _keep_worst_diagnosis(document: dict[str, Any]) -> None:
    document["diagnoses"] = document["diagnoses"][:3]
