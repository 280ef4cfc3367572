"""Knowledge competitions: teams in one hall answer the exhibit's quiz questions.

:mod:`.model` is the content block (``competitions:`` in exhibit.yaml),
:mod:`.rules` scores an answers log (a pure function), :mod:`.engine` is the
competition's state machine (inputs in, effects out, replayable) and
:mod:`.clocksync` estimates each surface's clock offset for fair timing.
"""
