"""nbgrader's exchange (a course on one shared machine, e.g. the JupyterHub): a submission belongs
to the Unix user who wrote it.

nbgrader's own exchange trusts names: ``nbgrader submit --student=<classmate>`` files a submission
in a classmate's name, a folder written by hand into ``inbound/`` is collected for whoever its
name says, its time is what its name and ``timestamp.txt`` say, and collecting copies it
following its symbolic links as the instructor. The course's exchange steps, named in the
configuration (``c.ExchangeFactory.submit`` / ``.collect``), keep nbgrader's behaviour otherwise.
Open :mod:`~course_utils.instructor.exchange.collect` first.

==========  =======================================================================================
module      what it holds
==========  =======================================================================================
``submit``  ``nbgrader submit`` refuses ``--student`` other than the user who runs it
``collect`` ``nbgrader collect`` takes a folder only from its owner, times it by the file system,
            copies regular files only, and fails naming everything it skipped
==========  =======================================================================================
"""
