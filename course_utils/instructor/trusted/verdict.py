"""Where a score is decided: the trusted verdict on each function, and each graded cell's score.

Runs in the grader's process, where no student code ever ran:

* :func:`judge_answers` reads what the checking process handed back (data only, sizes capped)
  and judges every answer with :func:`course_utils.grading.compare.judge_case` against
  :mod:`course_utils.reference`; each function's share of points comes from the named groups of
  checks it passed (:func:`course_utils.grading.scoring.score`);
* :func:`score_cell` decides a test cell's score from those verdicts and what the kernel's own
  test cell said, and names a disagreement;
* :func:`feedback_outputs` is what the student reads in that cell's place.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from nbformat import NotebookNode

from course_utils.grading import wire
from course_utils.grading.compare import Judgment, failed, judge_case, wrap_lines
from course_utils.grading.delegation import ADVICE, BANNED_PACKAGES
from course_utils.grading.flags import TAMPERING_SUSPECTED
from course_utils.grading.scoring import Verdict, score
from course_utils.grading.specs import Case, Check
from course_utils.instructor.trusted.answers import Answers, GradedFunction

#: The most a checking process may write back per function (answers and inputs after the call).
MAX_RESULT_BYTES = 64 * 2**20


@dataclass
class FunctionResult:
    """The trusted verdict on one graded function, and what happened while it was checked."""

    function: GradedFunction
    verdict: Verdict
    notes: list[str] = field(default_factory=list)  # e.g. "relu was stopped: still running after 6 s ..."
    visible_passed: bool = False  # every visible case right: what the kernel's test cell checked
    seconds: float = 0.0  # the time its cases took in the checking process
    stopped: str | None = None  # why the checking process stopped it, if it did
    delegated: bool = False  # it reached a banned library
    not_offered: list[str] = field(default_factory=list)  # names it uses the checker does not have
    skipped_cells: list[int] = field(default_factory=list)  # cells using what the checker does not offer

    def record(self) -> dict:
        """The verdict as data, for the autograded notebook (the class report reads it)."""
        return {
            "function": self.verdict.function, "fraction": round(self.verdict.fraction, 6),
            "cases": len(self.function.cases), "seconds": round(self.seconds, 4),
            "stopped": self.stopped, "delegated": self.delegated, "not_offered": self.not_offered,
            "groups": [{"output": output, "group": group.name, "passed": group.passed, "checks": group.checks,
                        "failure": group.failure}
                       for output, groups in self.verdict.outputs for group in groups],
        }


def judge_answers(answers: Answers) -> list[FunctionResult]:
    """One :class:`FunctionResult` per graded function, in notebook order."""
    return [judge_function(answers, k, function) for k, function in enumerate(answers.functions)]


def judge_function(answers: Answers, k: int, function: GradedFunction) -> FunctionResult:
    """Judge function ``k``'s answers from ``result-<k>`` against the reference."""
    check, cases = function.check, function.cases
    cells = _cell_record(answers, k)
    skipped_cells = sorted({error["cell"] for error in cells if error["kind"] in ("not offered", "banned")})
    try:
        payload, arrays = wire.read(str(answers.folder), f"result-{k}", max_bytes=MAX_RESULT_BYTES)
    except FileNotFoundError:
        why = next((ended for first, ended in answers.restarts if first == k), "no result")
        payload, arrays = {"stopped": f"the checking process was killed ({why})", "where": ""}, []
    except (OSError, ValueError) as error:
        payload, arrays = {"stopped": f"its result could not be read ({error})", "where": ""}, []
    if "stopped" in payload:
        reason = stopped_reason(check.function, str(payload["stopped"]), str(payload.get("where", "")))
        result = _all_failed(function, reason)
        result.stopped, result.skipped_cells = reason, skipped_cells
        return result
    entries = payload.get("answers", [])
    entries = [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    delegated = next((entry["raised"] for entry in entries if _delegated(entry.get("raised"))), None)
    if delegated is not None:  # using a banned library costs the whole function
        result = _all_failed(function, delegation_message(check.function, str(delegated.get("message", ""))))
        result.delegated, result.skipped_cells = True, skipped_cells
        return result
    notes = []
    warned = [text for entry in entries for text in entry.get("warnings", []) if isinstance(text, str)]
    if warned:
        shown = "; ".join(list(dict.fromkeys(warned))[:3])
        notes.append(f"{check.function} warned while it was checked: {shown} (a warning alone costs no "
                     "points, but read it)")
    for error in [error for error in cells if error["kind"] in ("error", "stopped")][:3]:
        notes.append(f"cell {error['cell']}: {error['type']}: {error['message'][:160]}")
    judged = []
    for index, spec in enumerate(check.specs):
        pairs = []
        for position, case in enumerate(cases):  # in order: names repeat (visible and hidden)
            entry = entries[position] if position < len(entries) else None
            if not isinstance(entry, dict) or entry.get("case") != case.name:
                entry = None
            pairs.append((case, _judge_entry(check, index, spec, case, entry, arrays)))
        judged.append(pairs)
    visible = function.visible_count
    visible_passed = all(judgment.right for pairs in judged for _, judgment in pairs[:visible])
    seconds = sum(entry.get("seconds", 0) for entry in entries if isinstance(entry.get("seconds", 0), (int, float)))
    not_offered = sorted({_unavailable_name(entry["raised"]) for entry in entries
                          if isinstance(entry.get("raised"), dict) and entry["raised"].get("unavailable") == "not offered"})
    return FunctionResult(function, score(check, judged), notes, visible_passed, seconds=float(seconds),
                          not_offered=not_offered, skipped_cells=skipped_cells)


def _cell_record(answers: Answers, k: int) -> list[dict]:
    """What failed in the cells above function ``k``'s test cell (``cells-<k>.json``), as
    ``{"cell", "kind", "type", "message"}``: kind ``error`` (the student's own), ``stopped`` (past
    the cell limit), ``not offered`` / ``banned`` (an import the checker does not have, or a name
    only it would have bound)."""
    path = answers.folder / f"cells-{k}.json"
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            return []
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    errors = record.get("cell_errors", []) if isinstance(record, dict) else []
    found = []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict) or not isinstance(error.get("error"), dict):
            continue
        found.append({"cell": int(error.get("cell", 0)) if str(error.get("cell", "0")).isdigit() else 0,
                      "kind": str(error.get("kind", "error")), "type": str(error["error"].get("type", "")),
                      "message": str(error["error"].get("message", ""))})
    return found


def _unavailable_name(raised: dict) -> str:
    match = re.search(r"name '([^']+)' is not defined", str(raised.get("message", "")))
    return match.group(1) if match else "?"


def _all_failed(function: GradedFunction, reason: str) -> FunctionResult:
    """Every case of every output failed with ``reason`` (stopped, delegated)."""
    judged = [[(case, failed(case, reason)) for case in function.cases] for _ in function.check.specs]
    return FunctionResult(function, score(function.check, judged, reason))


def _judge_entry(check: Check, index: int, spec, case: Case, entry: dict | None, arrays) -> Judgment:
    shown = Case(f"{case.name} [{check.outputs[index]}]", case.args, case.kwargs, case.group) \
        if check.outputs else case
    if entry is None:
        return failed(shown, f"{check.function}: no answer came back for the check '{case.name}'")
    if "missing" in entry:
        return failed(shown, f"{check.function} could not be checked: {entry['missing']}.")
    if "raised" in entry:
        raised = entry["raised"]
        if raised.get("unavailable") == "not offered" and raised.get("imported"):
            return failed(shown, f"{check.function} could not be checked: the notebook imports it from a module "
                                 "the checking process does not offer (it has Python's standard library and numpy). "
                                 "Define it in the notebook itself.")
        if raised.get("unavailable") == "not offered":
            return failed(shown, f"{check.function} uses {_unavailable_name(raised)}, which the checking process "
                                 "does not offer (it has Python's standard library and numpy): the grader could not "
                                 f"run it in the check '{case.name}'. Compute with numpy only.")
        text = f"{check.function} raised {raised['type']}: {raised['message'][:300]} in the check '{case.name}'"
        if raised.get("traceback"):
            text += "\n" + raised["traceback"].rstrip()
        return failed(shown, text)
    try:
        got = wire.decode(entry["got"], arrays)
        args = wire.decode(entry["args_after"], arrays)
        kwargs = wire.decode(entry["kwargs_after"], arrays)
    except (KeyError, IndexError, TypeError) as error:
        return failed(shown, f"{check.function}: its answer to '{case.name}' could not be read ({error})")
    if check.outputs:
        if not (isinstance(got, (tuple, list)) and len(got) == len(check.outputs)):
            return failed(shown, f"{check.function} must return the {len(check.outputs)} {check.outputs_are} "
                                 f"as a tuple (return {', '.join(check.outputs)})")
        got = got[index]
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        return failed(shown, f"{check.function}: the inputs after the call could not be read")
    return judge_case(spec, shown, got, args, kwargs)


def _delegated(raised) -> bool:
    """Did a call end by reaching a banned library (refused by the guard, or absent)?"""
    if not isinstance(raised, dict):
        return False
    if raised.get("type") == "DelegationError" or raised.get("unavailable") == "banned":
        return True
    message = str(raised.get("message", ""))
    return raised.get("type") == "ModuleNotFoundError" and any(
        f"'{package}'" in message or f"'{package}." in message for package in BANNED_PACKAGES)


def delegation_message(function: str, refused: str) -> str:
    """What a student reads when their function reached a banned library in the checking process."""
    words = refused.split()
    if words[:2] == ["import", "of"] and len(words) > 2:  # the import guard's "import of torch refused: ..."
        refused = f"it uses `import {words[2]}` (refused here)"
    elif (name := re.search(r"name '([^']+)' is not defined", refused)) is not None:
        refused = f"it uses {name.group(1)}, from a library refused here"
    return wrap_lines([f"DelegationError: {function} delegates instead of computing: {refused}.", ADVICE])


def stopped_reason(function: str, stopped: str, where: str) -> str:
    """One plain line: which function, what stopped it, where it was, what to look for."""
    kind, _, detail = stopped.partition(": ")
    place = f" while running {where}" if where and where != "started" else ""
    if kind == "timeout":
        return (f"{function} was stopped: {detail}{place}. A right answer takes well under a "
                "second: look for a loop that never ends.")
    return f"{function} could not be checked: {detail or stopped}{place}."


# --- a graded cell's score ----------------------------------------------------------------------

@dataclass(frozen=True)
class CellScore:
    """What :func:`score_cell` decided for one test cell; recorded in the autograded notebook."""

    score: float
    max_score: float
    kernel_score: float | None  # what nbgrader read from the kernel's own run of the test cell
    groups: dict[str, list[str]]  # function -> the groups of checks it failed
    notes: list[str]
    mismatch: str | None  # the kernel and the trusted verdict disagree, in words
    functions: list[dict] = field(default_factory=list)  # FunctionResult.record() of each function

    def record(self) -> dict:
        return asdict(self)


def score_cell(grade_id: str, points: float, results: list[FunctionResult], kernel_score: float | None,
               partial_credit: bool = True) -> CellScore:
    """The score of test cell ``grade_id`` (worth ``points``): decided by the trusted verdicts on
    the functions it checks, never by the kernel.

    1. Each function earns the share of groups of checks it passed; the cell earns the mean
       share over its functions (all or nothing without ``partial_credit``).
    2. The kernel's own test cell ran the visible cases only; where it passed and the trusted
       check *judged* a visible answer wrong, the notebook fooled the kernel: tampering is
       suspected. Where the trusted check could not judge -- it stopped the function (time,
       resources), or the function uses what the checker does not offer -- the note says that,
       in one plain line, and suspects nothing. Where the kernel failed and the trusted check
       passed, the trusted verdict counts, and the note says so.
    """
    fraction = sum(result.verdict.fraction for result in results) / len(results)
    if not partial_credit:
        fraction = 1.0 if fraction == 1.0 else 0.0
    score_ = round(points * fraction, 4)
    kernel_passed = kernel_score is not None and kernel_score >= points
    trusted_passed = all(result.visible_passed for result in results)
    mismatch = None
    stopped = next((result for result in results if result.stopped), None)
    not_offered = next((result for result in results if result.not_offered), None)
    if kernel_passed and not trusted_passed and stopped is not None:
        mismatch = (f"test cell {grade_id} passed in the kernel; the trusted check could not finish: "
                    f"{stopped.stopped} ({score_:g}/{points:g})")
    elif kernel_passed and not trusted_passed and not_offered is not None:
        used = not_offered.not_offered
        what = (f"{not_offered.verdict.function} is imported from a module" if used == [not_offered.function.variable]
                else f"{not_offered.verdict.function} uses {', '.join(used)}, which")
        mismatch = (f"test cell {grade_id} passed in the kernel; in the trusted check {what} the "
                    f"checking process does not offer ({score_:g}/{points:g})")
    elif kernel_passed and not trusted_passed:
        mismatch = (f"{TAMPERING_SUSPECTED}: test cell {grade_id} passed in the kernel, trusted check "
                    f"failed ({score_:g}/{points:g})")
    elif not kernel_passed and trusted_passed:
        mismatch = (f"test cell {grade_id} failed in the kernel, trusted check passed its visible cases "
                    f"({score_:g}/{points:g}); the trusted verdict counts")
    return CellScore(
        score=score_, max_score=points, kernel_score=kernel_score,
        groups={result.verdict.function: result.verdict.failed_groups() for result in results},
        notes=[note for result in results for note in result.notes], mismatch=mismatch,
        functions=[result.record() for result in results])


def feedback_outputs(results: list[FunctionResult], decided: CellScore, extra_notes=()) -> list[NotebookNode]:
    """The test cell's outputs as the student sees them in the feedback: the groups passed and
    failed with the first failure of each (a function stopped or delegating: the reason, once),
    ``extra_notes`` (the submission's quiet line, on its first test cell), and the score
    (nbgrader reads a number as the cell's partial credit, an error as 0, nothing as full marks)."""
    lines = []
    for result in results:
        verdict = result.verdict
        cases = len(result.function.cases)
        mark = "\N{CHECK MARK}" if verdict.passed else "\N{BALLOT X}"
        lines.append(f"{mark} {verdict.function}: {verdict.summary()}, checked by the grader on {cases} cases")
        if result.stopped or result.delegated:  # one reason for every group: said once
            reason = verdict.first_failure or ""
            lines.extend("    " + line for line in reason.split("\n"))
        else:
            for output, groups in verdict.outputs:
                for group in groups:
                    label = f"{output}: {group.name}" if output else group.name
                    lines.append(f"    {'✓' if group.passed else '✗'} {label}")
                    if not group.passed and group.failure:
                        lines.extend("        " + line for line in group.failure.split("\n"))
        lines.extend(f"    note: {note}" for note in result.notes)
    lines.extend(f"note: {line}" for line in extra_notes)
    text = "\n".join(lines) + "\n"
    score_, points = decided.score, decided.max_score
    if score_ >= points:
        return [NotebookNode(output_type="stream", name="stdout", text=text)]
    if score_ <= 0:
        head, *rest = text.rstrip("\n").split("\n")
        return [NotebookNode(output_type="error", ename="CheckFailed", evalue=head,
                             traceback=[f"CheckFailed: {head}", *rest])]
    return [NotebookNode(output_type="stream", name="stdout", text=text + f"score: {score_:g} of {points:g} points\n"),
            NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                         data={"text/plain": repr(score_)})]


def skipped_cells_note(results: list[FunctionResult]) -> str | None:
    """The one quiet line about cells that use what the checking process does not offer
    (plotting, the course's lesson tools, progress bars...): ``None`` if there are none."""
    cells = sorted({cell for result in results for cell in result.skipped_cells})
    if not cells:
        return None
    named = ", ".join(map(str, cells))
    return (f"cell{'s' if len(cells) > 1 else ''} {named} use{'' if len(cells) > 1 else 's'} plotting or course "
            "tools, which the grader skips; your functions were checked on their own")
