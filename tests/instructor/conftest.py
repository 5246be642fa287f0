"""The instructor tests share tests/nbgrader_course.py with the nbgrader round trips."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
