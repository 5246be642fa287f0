"""Moved: ``python -m course_utils.autograde`` is now ``python -m course_utils.instructor.autograde``.

This shim keeps the old command working for one release; ``make grade`` uses the new one.
"""

import sys

from course_utils.instructor.autograde import main

if __name__ == "__main__":
    print("note: `python -m course_utils.autograde` is now `python -m course_utils.instructor.autograde`",
          file=sys.stderr)
    sys.exit(main())
