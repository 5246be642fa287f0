"""Similar work: a copy with renamed variables, reordered functions and rewritten comments is
found; twenty honest solutions written in different styles (:mod:`honest_solutions`) are not;
the released template alone never makes a pair; a copy of the course's own code is found."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from honest_solutions import FUNCTIONS, cell_code, honest_solutions, planted_copy

from course_utils.instructor.report import page, sources
from course_utils.instructor.report.similarity import THRESHOLD, Document, similar_work
from course_utils.reference import conv2d as reference_conv2d

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "a1_convolution"
RELEASED = json.loads((ROOT / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
SOLVED = json.loads((ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
TEMPLATES = {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"]) for cell in RELEASED["cells"]
             if cell["metadata"].get("nbgrader", {}).get("solution")}
BOILERPLATE = sources.template_code([RELEASED])
COURSE = [Document(key, code) for key, code in sources.course_sources(ROOT, [SOLVED]).items()]


def handed_in(answers: dict) -> dict:
    """The released notebook with ``answers`` (grade_id -> body) in its solution cells."""
    notebook = json.loads(json.dumps(RELEASED))
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = cell_code(TEMPLATES[grade_id], answers[grade_id])
    return notebook


def own(notebook: dict) -> str:
    return sources.own_code([notebook], sources.locked_ids([RELEASED]))


HONEST = [Document(f"honest{k:02d}", own(handed_in(answers))) for k, answers in enumerate(honest_solutions())]


def test_every_honest_solution_is_right_and_written_its_own_way():
    rng = np.random.default_rng(0)
    for k, answers in enumerate(honest_solutions()):
        namespace = {"np": np}
        for function in FUNCTIONS:
            exec(cell_code(TEMPLATES[function], answers[function]), namespace)
        for shape, kernel, stride, padding in (((2, 3, 7, 6), (4, 3, 3, 2), 2, 1), ((1, 2, 6, 8), (3, 2, 2, 3), 3, 2)):
            x, w, b = rng.normal(size=shape), rng.normal(size=kernel), rng.normal(size=kernel[0])
            expected = reference_conv2d(x, w, b, stride=stride, padding=padding)
            assert np.allclose(namespace["conv2d"](x, w, b, stride=stride, padding=padding), expected), k
    assert len({doc.code for doc in HONEST}) == 20


def test_twenty_honest_solutions_are_not_flagged_with_each_other_or_the_course():
    result = similar_work(HONEST, COURSE, BOILERPLATE)
    assert result.compared == 20
    assert result.pairs == [] and result.sources == []
    # and not by a hair: every honest pair is well under the threshold
    loose = similar_work(HONEST, COURSE, BOILERPLATE, threshold=1e-6)
    assert max(match.share for match in loose.pairs) < THRESHOLD - 0.05
    assert max(match.left_share for match in loose.sources) < THRESHOLD - 0.05


def test_a_copy_with_renamed_variables_reordered_functions_and_new_comments_is_flagged():
    original = honest_solutions()[3]
    copied = own(handed_in(planted_copy(original)))
    assert "windows_to_columns" in copied and "k_height" in copied and "GEMM" in copied
    assert copied.index("def columns_to_output") < copied.index("def windows_to_columns")  # reordered
    result = similar_work([*HONEST, Document("copier", copied)], COURSE, BOILERPLATE)
    assert [(match.left, match.right) for match in result.pairs] == [("copier", "honest03")]
    assert result.pairs[0].share > 0.9
    assert result.sources == []


def test_a_renamed_copy_of_the_solution_or_the_reference_is_flagged_against_it():
    solution = {grade_id: code.split('"""\n', 2)[-1].strip() for grade_id, code in
                ((cell["metadata"]["nbgrader"]["grade_id"], "".join(cell["source"])) for cell in SOLVED["cells"]
                 if cell["metadata"].get("nbgrader", {}).get("solution"))}
    renamed = {grade_id: re.sub(r"\b(n_images|n_filters|h_out|w_out|x_pad|window)\b",
                                lambda m: m.group(1)[::-1] + "_", code).replace("### BEGIN SOLUTION\n", "")
               .replace("    ### END SOLUTION", "").replace("### END SOLUTION", "").strip()
               for grade_id, code in solution.items()}
    copier = Document("copier", own(handed_in(renamed)))
    result = similar_work([*HONEST, copier], COURSE, BOILERPLATE)
    assert [(m.left, m.right) for m in result.sources] == [("copier", "solutions/ (the instructor's solution)")]
    assert result.sources[0].left_share > 0.9 and result.pairs == []


def test_the_released_template_alone_never_makes_a_pair():
    blank = own(handed_in({}))
    assert "raise NotImplementedError()" in blank
    result = similar_work([Document(f"blank{k}", blank) for k in range(5)] + HONEST[:3], COURSE, BOILERPLATE)
    assert result.pairs == [] and result.sources == []
    assert result.compared == 3  # a blank submission has no code of its own


def test_two_honest_solutions_of_the_same_ten_line_function_are_not_flagged():
    loops = [honest_solutions()[k] for k in (6, 16)]  # both plain loops over windows
    only_conv2d = [Document(f"student{k}", own(handed_in({"conv2d": answers["conv2d"]})))
                   for k, answers in enumerate(loops)]
    assert similar_work(only_conv2d, COURSE, BOILERPLATE).pairs == []


def test_the_side_by_side_view_marks_the_shared_code_and_escapes_it():
    code = "x = 1\nif a < b and '<script>' > c:\n    pass\n"
    start = code.index("if")
    html = page.marked(code, [(start, len(code) - 1)], people=["a"])
    assert html.startswith("x = 1\n<mark>if &lt;student&gt; &lt; b and &#x27;&lt;script&gt;&#x27; &gt; c:")
    assert html.endswith("</mark>\n") and "<script>" not in html
    with pytest.raises(ValueError, match=r"similar_work: threshold must be in \(0, 1\], got 1.5"):
        similar_work(HONEST[:2], [], BOILERPLATE, threshold=1.5)
