"""Parsing and validation of xAPI statements sent by the H5P player.

Only what progress needs is interpreted; the statement itself is kept as received, except
that the actor is always replaced by the logged-in user (the body's actor is ignored:
H5P makes up an anonymous actor in the browser, so it can neither be trusted nor matched)
and the LRS-owned fields ``stored`` and ``authority`` are dropped.
"""

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.dateparse import parse_datetime

from courses.training.activities import ActivityRef, UnknownActivity, parse_activity_iri

ADL = "http://adlnet.gov/expapi/verbs/"
ACCEPTED_VERBS = frozenset(
    ADL + name
    for name in (
        "answered",
        "attempted",
        "completed",
        "experienced",
        "failed",
        "initialized",
        "interacted",
        "mastered",
        "passed",
        "progressed",
        "resumed",
        "scored",
        "suspended",
        "terminated",
    )
)
# Verbs that report the end of a try, with or without a score.
RESULT_VERBS = frozenset(
    ADL + name for name in ("answered", "completed", "passed", "failed", "scored", "mastered")
)
# Verbs that say the activity is finished even without result.completion.
COMPLETION_VERBS = frozenset(ADL + name for name in ("completed", "passed", "failed", "mastered"))

MAX_BODY_BYTES = 64 * 1024
MAX_STATEMENTS_PER_REQUEST = 50


class StatementError(ValueError):
    """A statement that must not be stored. The message is the reason given to the client."""


@dataclass
class ParsedStatement:
    statement_id: uuid.UUID | None
    verb: str
    object_id: str
    activity: ActivityRef
    score: float | None = None  # normalised 0..1 for progress
    score_scaled: float | None = None  # as sent
    success: bool | None = None
    completion: bool | None = None
    timestamp: datetime | None = None
    raw: dict = field(default_factory=dict)

    @property
    def is_result(self) -> bool:
        return self.verb in RESULT_VERBS

    @property
    def finishes_activity(self) -> bool:
        return self.completion is True or self.verb in COMPLETION_VERBS


def _reject_constant(name):
    raise StatementError(f"invalid JSON number {name}")


def load_statements(body: bytes) -> list[dict]:
    """Decode a request body holding one statement or a list of them."""
    if len(body) > MAX_BODY_BYTES:
        raise StatementError(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise StatementError("body is not valid JSON")
    statements = data if isinstance(data, list) else [data]
    if not statements:
        raise StatementError("no statement in the body")
    if len(statements) > MAX_STATEMENTS_PER_REQUEST:
        raise StatementError(f"more than {MAX_STATEMENTS_PER_REQUEST} statements in one request")
    for statement in statements:
        if not isinstance(statement, dict):
            raise StatementError("a statement must be a JSON object")
    return statements


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StatementError(f"{name} must be a number")
    return float(value)


def _optional_bool(result: dict, name: str) -> bool | None:
    value = result.get(name)
    if value is not None and not isinstance(value, bool):
        raise StatementError(f"result.{name} must be true or false")
    return value


def parse_score(score) -> tuple[float | None, float | None]:
    """Return (normalised 0..1 score, scaled as sent) from result.score.

    raw within [min, max] wins over scaled: H5P computes scaled from raw/max, and recorded
    statements exist whose scaled disagrees with raw/max (scaled 0 with raw 11 of 11).
    """
    if score is None:
        return None, None
    if not isinstance(score, dict):
        raise StatementError("result.score must be an object")
    scaled = raw = minimum = maximum = None
    if "scaled" in score:
        scaled = _number(score["scaled"], "result.score.scaled")
        if not -1 <= scaled <= 1:
            raise StatementError("result.score.scaled must be between -1 and 1")
    if "min" in score:
        minimum = _number(score["min"], "result.score.min")
    if "max" in score:
        maximum = _number(score["max"], "result.score.max")
    if minimum is not None and maximum is not None and minimum >= maximum:
        raise StatementError("result.score.min must be below result.score.max")
    if "raw" in score:
        raw = _number(score["raw"], "result.score.raw")
        if minimum is not None and raw < minimum:
            raise StatementError("result.score.raw is below result.score.min")
        if maximum is not None and raw > maximum:
            raise StatementError("result.score.raw is above result.score.max")
    if raw is not None and maximum is not None:
        low = minimum if minimum is not None else 0.0
        if maximum > low:
            return max(0.0, min(1.0, (raw - low) / (maximum - low))), scaled
    if scaled is not None:
        return max(0.0, scaled), scaled
    return None, scaled


def parse_statement(data: dict, *, base: str) -> ParsedStatement:
    """Validate one statement for this site (``base`` = scheme://host). Raises StatementError."""
    if not isinstance(data, dict):
        raise StatementError("a statement must be a JSON object")

    statement_id = None
    if data.get("id") is not None:
        try:
            statement_id = uuid.UUID(str(data["id"]))
        except ValueError:
            raise StatementError("id must be a UUID")

    verb = data.get("verb")
    verb_id = verb.get("id") if isinstance(verb, dict) else None
    if not isinstance(verb_id, str):
        raise StatementError("verb.id is missing")
    if verb_id not in ACCEPTED_VERBS:
        raise StatementError(f"verb {verb_id[:200]} is not accepted")

    obj = data.get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise StatementError("object.id is missing")
    if obj.get("objectType", "Activity") != "Activity":
        raise StatementError("object must be an Activity")
    try:
        activity = parse_activity_iri(obj["id"], base=base)
    except UnknownActivity as exc:
        raise StatementError(str(exc))

    result = data.get("result")
    if result is not None and not isinstance(result, dict):
        raise StatementError("result must be an object")
    result = result or {}
    score, scaled = parse_score(result.get("score"))
    success = _optional_bool(result, "success")
    completion = _optional_bool(result, "completion")

    timestamp = None
    if data.get("timestamp") is not None:
        value = data["timestamp"]
        try:
            timestamp = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            timestamp = None
        if timestamp is None or timestamp.tzinfo is None:
            raise StatementError("timestamp must be an ISO 8601 date and time with a time zone")

    raw = {key: value for key, value in data.items() if key not in ("stored", "authority")}
    return ParsedStatement(
        statement_id=statement_id,
        verb=verb_id,
        object_id=obj["id"],
        activity=activity,
        score=score,
        score_scaled=scaled,
        success=success,
        completion=completion,
        timestamp=timestamp,
        raw=raw,
    )


def actor_for(user, base: str) -> dict:
    """The actor stored for a user: an account on this site, no name or e-mail."""
    return {"objectType": "Agent", "account": {"homePage": base, "name": str(user.pk)}}
