"""What a learning platform hands the instructor and takes back: downloads in, grades out.

Independent of the sandbox and of the grading pipeline (it imports neither); names, files and
spreadsheet cells go through :mod:`course_utils.instructor.untrusted`. Open
:mod:`~course_utils.instructor.lms.collect` first.

=================  ==============================================================================
module             what it holds
=================  ==============================================================================
``collect``        ``nbgrader zip_collect`` plugins: unpack the download, place every file
``plan``           which file of a student's is collected, and the table of every file
``names``          what a platform's file name says: student, attempt, lateness
``roster``         the course roster (a CSV of platform ids and names)
``canvas_grades``  ``nbgrader export`` plugin: grades in Canvas's gradebook-import layout
``grades_csv``     ``nbgrader export``'s own grades.csv, quoted and never a formula
=================  ==============================================================================
"""
