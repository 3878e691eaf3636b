"""Target history: each target's series of set, baseline, revised and measured values."""

from __future__ import annotations

from typing import Any

from ..base import Ask, Rows, iso
from ..fields import FieldProjection, public
from . import by_kind_and_key

_STEP = {
    ("TargetSet", "value"): "set",
    ("BaselineRecorded", "baseline"): "baseline",
    ("TargetRevised", "value"): "revised",
    ("OutcomeMeasured", "outcome"): "measured",
}
_PERIOD = {"baseline": "baseline_period", "measured": "outcome_period"}


class TargetHistory(FieldProjection):
    name = "target_history"
    kinds = frozenset({"target"})

    def targets(self, rows: Rows, ask: Ask) -> list[dict[str, Any]]:
        return [
            {**public(entity), "series": _series(entity["_rows"])}
            for _, entity in sorted(self.entities(rows, ask, kind="target").items(),
                                    key=by_kind_and_key)
        ]

    def target(self, rows: Rows, key: str, ask: Ask) -> dict[str, Any] | None:
        found = self.entities(rows, ask, kind="target", key=key)
        if not found:
            return None
        entity = found[("target", key)]
        return {**public(entity), "series": _series(entity["_rows"])}


def _series(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    periods = {
        (r["position"], r["field"]): r["value"]
        for r in rows
        if r["field"] in ("baseline_period", "outcome_period")
    }
    series: list[dict[str, Any]] = []
    value: Any = None
    for r in rows:
        step = _STEP.get((r["event_type"], r["field"]))
        if step is None:
            continue
        new = r["value"]
        entry = {
            "step": step,
            "value": new,
            "effective_at": iso(r["effective_at"], date_if_midnight=True),
            "recorded_at": iso(r["recorded_at"]),
            "actor": r["actor"],
            "role": r["role"],
            "position": r["position"],
            "source": {"document": r["source_document"], "location": r["source_location"]},
        }
        if step == "revised":
            entry["old_value"] = value
            entry["justification"] = r["reason"]
        if step in _PERIOD:
            entry["period"] = periods.get((r["position"], _PERIOD[step]))
        if step in ("set", "revised"):
            value = new
        series.append(entry)
    return series
