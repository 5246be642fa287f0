"""Moved: ``python -m course_utils.release`` is now ``python -m course_utils.instructor.release``.

This shim keeps the old command working for one release; ``make assignments`` uses the new one.
"""

import sys

from course_utils.instructor.release import main

if __name__ == "__main__":
    print("note: `python -m course_utils.release` is now `python -m course_utils.instructor.release`",
          file=sys.stderr)
    sys.exit(main())
