"""Reading ``gpc eval``'s journal (``OUT.partial.jsonl``) back: what counts and what not.

The journal's first line is the evaluation's header; every later line should be one
finished trial. A resume and a report of an unfinished run both read it, and both must
survive what happens to files: a line torn by a crash, a line edited by hand, two runs
that wrote the same journal (each trial then appears twice), a journal of a run with
more trials. What is kept is one valid record per trial index in ``range(trials)``, the
first one written; everything else is skipped and said in one line, never a traceback
and never a silently wrong count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gpc_planner.atomic import JsonlLog

NUMBER = (int, float)
# Keys every trial record has (``evaluation.run_trial``), with the types the summary needs.
TRIAL_FIELDS: dict[str, tuple[type, ...]] = {
    "trial": (int,),
    "success": (bool,),
    "steps": (int,),
    "wall_time_s": NUMBER,
    "plan_time_ms": (list,),
    "cem_sample_ratio": (*NUMBER, type(None)),
}
SHOWN = 4  # problems listed by line before "and N more"
_ABSENT = object()


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    """A header as {dotted key: leaf value}."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def header_difference(old: object, new: dict) -> str | None:
    """Where a journal's (or a summary's) header ``old`` and a run's ``new`` differ, as
    ``"spec.horizon: 4.0 there, 3.0 here"`` (up to four); None when they name the same evaluation.

    Where the model files lie is not part of it when both headers carry the files' digests
    (``model_sha256``): the digest names a model, so a clone elsewhere, or a path given
    another way, resumes its journal, and a retrained file at the same path does not."""
    if not isinstance(old, dict):
        return "the header is not a JSON object"
    flat_old, flat_new = _flat(old), _flat(new)
    if "model_sha256" in old and "model_sha256" in new:
        for flat in (flat_old, flat_new):
            flat.pop("spec.model", None)
    keys = [*flat_new, *(k for k in flat_old if k not in flat_new)]  # the run's order first
    found = [f"{key}: {flat_old.get(key, '(absent)')} there, {flat_new.get(key, '(absent)')} "
             "here" for key in keys if flat_old.get(key, _ABSENT) != flat_new.get(key, _ABSENT)]
    if not found:
        return None
    more = len(found) - SHOWN
    return "; ".join(found[:SHOWN]) + (f"; and {more} more" if more > 0 else "")


def record_problem(record: object) -> str | None:
    """Why ``record`` is not a usable trial record, in words; None when it is one."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not a record"
    missing = [k for k in TRIAL_FIELDS if k not in record]
    if missing:
        return f"missing {', '.join(missing)}"
    for key, types in TRIAL_FIELDS.items():
        value = record[key]
        # bool is an int to Python, but a trial index or step count of true is not a number
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            return f"{key} is {value!r}"
    if not all(isinstance(t, NUMBER) and not isinstance(t, bool) for t in record["plan_time_ms"]):
        return "plan_time_ms holds a non-number"
    return None


@dataclass
class JournalTrials:
    """The usable trial records of a journal and what was skipped, by line."""

    records: list[dict] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (line, trial)
    out_of_range: list[tuple[int, int]] = field(default_factory=list)  # (line, trial)

    def skipped(self) -> int:
        return len(self.invalid) + len(self.duplicates) + len(self.out_of_range)

    def describe(self, path: str | Path, trials: int) -> str | None:
        """One line on everything skipped (None when nothing was)."""
        parts = []
        if self.invalid:
            parts.append(f"skipped {_count(self.invalid, 'invalid record')} ("
                         + _listed([f"line {n}: {why}" for n, why in self.invalid]) + ")")
        if self.duplicates:
            parts.append(f"ignored {_count(self.duplicates, 'repeated record')} of trials "
                         "already recorded (two runs wrote this journal?) ("
                         + _listed([f"line {n}: trial {t}" for n, t in self.duplicates]) + ")")
        if self.out_of_range:
            parts.append(f"ignored {_count(self.out_of_range, 'record')} of trials outside "
                         f"0..{trials - 1} ("
                         + _listed([f"line {n}: trial {t}" for n, t in self.out_of_range]) + ")")
        return f"{path}: {'; '.join(parts)}" if parts else None


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _listed(items: list[str]) -> str:
    more = len(items) - SHOWN
    return "; ".join(items[:SHOWN]) + (f"; and {more} more" if more > 0 else "")


def read_journal(path: str | Path) -> tuple[object | None, list[tuple[int, object]], list[int]]:
    """(header, numbered later lines, numbers of non-JSON lines) of a journal.

    The header is the first line's value (None for an empty journal or one whose
    first line is not JSON; that line then counts among the non-JSON ones).
    """
    values, not_json = JsonlLog(path).read_numbered()
    if not values or (not_json and not_json[0] < values[0][0]):
        return None, values, not_json
    return values[0][1], values[1:], not_json


def trial_records(lines: list[tuple[int, object]], not_json: list[int], trials: int
                  ) -> JournalTrials:
    """The first valid record of each trial index in ``range(trials)``, and the rest by why."""
    out = JournalTrials(invalid=[(n, "not JSON (a torn or edited line)") for n in not_json])
    seen: set[int] = set()
    for number, record in lines:
        problem = record_problem(record)
        if problem is not None:
            out.invalid.append((number, problem))
            continue
        index = record["trial"]  # type: ignore[index]
        if not 0 <= index < trials:
            out.out_of_range.append((number, index))
        elif index in seen:
            out.duplicates.append((number, index))
        else:
            seen.add(index)
            out.records.append(record)  # type: ignore[arg-type]
    out.invalid.sort()
    return out
