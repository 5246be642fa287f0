"""The course website (``make site``): Jupyter Book 1 renders the README, ``docs/``, the executed
lessons and the released assignments into ``_build/site/``, offline. Open :mod:`website.build`
first.

=====================  ==========================================================================
module                 what it holds
=====================  ==========================================================================
``build``              ``make site``: execute the lessons (cached), stage the sources, build
``lessons``            a lesson run once headless in smoke mode (the tests use the same run)
``pages``              a lesson's page (stills, the smoke note) and an assignment's page
``static_views``       widget outputs as static HTML: explorers as stills, progress bars as text
``sphinx_extension``   the Layout page's module tables; the pages' scripts without thebe's
``_config.yml``        Jupyter Book's configuration; ``_toc.yml`` its table of contents
=====================  ==========================================================================
"""
