"""The station's pure state machine: inputs in, effects out, clock injected."""

from __future__ import annotations

from showfloor.engine.effects import Effect, Event, RecordEvent, Rejected, SendCue, ShowView
from showfloor.engine.inputs import (
    Act,
    Advanced,
    AnswerGiven,
    ChoiceMade,
    Input,
    LanguageChanged,
    Started,
    StillHere,
    Tick,
)
from showfloor.engine.state import Engine, Phase

__all__ = [
    "Act", "Advanced", "AnswerGiven", "ChoiceMade", "Effect", "Engine", "Event", "Input",
    "LanguageChanged", "Phase", "RecordEvent", "Rejected", "SendCue", "ShowView", "Started",
    "StillHere", "Tick",
]
