"""The request we send to the flow: redacted diagnoses and the question, at most N bytes.

The flow's prompt wraps this JSON as untrusted data between the lines ``BEGIN EVIDENCE`` and
``END EVIDENCE`` (CONTRACT §8), so the encoding keeps the data from acting as anything else:

* every text is redacted whole before it is cut to fit (CONTRACT §3);
* the JSON is one physical line: besides the control characters JSON escapes anyway, line and
  paragraph separators (U+2028, U+2029, NEL), the other control characters and invisible
  format characters (bidi overrides, zero-width and tag characters) are written as ``\\uXXXX``,
  so no text can start a line of its own ("END EVIDENCE") or hide from a reader;
* ``{`` and ``}`` inside strings are written as ``\\u007b`` / ``\\u007d``. The shipped flow
  substitutes the request into its prompt template once (LangChain's f-string rendering does
  not parse values again), but a flow that pastes it into a template, or anything that expands
  ``{{…}}`` variables (Flowise's own syntax), would otherwise read log text as placeholders.
  A JSON reader still gets the original characters back; doubled braces would not be
  lossless and would spell Flowise's variable syntax.

Trimming is deterministic and drops the least useful parts first: evidence lines beyond the
first, then suggestions, then findings beyond the root cause, then whole diagnoses beyond the
worst.
"""

from __future__ import annotations

import json
import re
from typing import Any

from highpeaks_agent.engine.redact import DEFAULT_REDACTOR
from highpeaks_agent.explain import ExplainRequest

MAX_LINE = 400
MAX_QUESTION = 2000

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
#: Characters of the Unicode categories Cc (beyond the C0 block JSON escapes), Cf, Zl, Zp and
#: Cs (a lone surrogate from a badly decoded log), and template braces. tests/unit/test_flowise_encoding.py checks the list against the
#: Unicode database.
_UNSAFE = re.compile(
    "[{}\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


def _diagnosis(d: Any) -> dict[str, Any]:
    data = DEFAULT_REDACTOR.data(d.to_json_dict())
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


def _unicode_escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the BMP: a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _escape_string(match: re.Match[str]) -> str:
    return _UNSAFE.sub(_unicode_escape, match[0])


def encode(document: dict[str, Any]) -> str:
    """Compact JSON on one line, with nothing in its strings a prompt template acts on."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return _JSON_STRING.sub(_escape_string, text)


def render_request(request: ExplainRequest, max_bytes: int) -> str:
    """The ``question`` field of the prediction call: compact JSON within ``max_bytes``."""
    document: dict[str, Any] = {
        "scope": DEFAULT_REDACTOR.text(request.scope),
        "question": DEFAULT_REDACTOR.text(request.question or "")[:MAX_QUESTION],
        "diagnoses": [_diagnosis(d) for d in request.diagnoses if d.findings][:10],
    }
    trims = (_keep_first_evidence, _drop_suggestions, _keep_root_findings, _keep_worst_diagnosis)
    text = encode(document)
    for trim in trims:
        if len(text.encode()) <= max_bytes:
            return text
        trim(document)
        text = encode(document)
    while len(text.encode()) > max_bytes and document["question"]:
        document["question"] = document["question"][: len(document["question"]) // 2]
        text = encode(document)
    if len(text.encode()) > max_bytes:
        for diagnosis in document["diagnoses"]:
            diagnosis["summary"] = diagnosis["summary"][:200]
            for finding in diagnosis["findings"]:
                finding["evidence"] = [line[:120] for line in finding["evidence"]]
        text = encode(document)
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
