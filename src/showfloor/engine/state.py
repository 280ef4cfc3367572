"""The station's state machine: Attract → Session(scene …) → Attract.

Every transition is named here (:class:`Transition`) and happens in one
place. No input for ``idle.timeout`` seconds (after any media finishes)
raises the "Are you still there?" countdown; when it runs out the session is
reset and everything the visitor left is dropped.

An operator (through the station) can close the station to visitors
(:class:`~showfloor.engine.inputs.Closed`), end a visit
(:class:`~showfloor.engine.inputs.VisitEnded`) and set the default language
(:class:`~showfloor.engine.inputs.DefaultLanguageSet`). These are inputs like
any other, recorded the same way, so a log with them replays too.

The engine is pure. Time comes from an injected clock (``Tick(now)`` moves
it); randomness comes from the session's seed, which the ``Started`` input
carries once the engine has filled it in. So the ``input`` events it records
are enough to replay a session exactly (:mod:`showfloor.engine.replay`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import orjson

from showfloor.content import expr as expressions
from showfloor.content.model import Exhibit, ExprSource, SceneBase, variable_default
from showfloor.content.scenes import registry
from showfloor.content.scenes.base import EndSession, Goto, Outcome, SceneType, Stay
from showfloor.engine.clock import Clock, monotonic
from showfloor.engine.effects import Effect, Event, RecordEvent, Rejected, SendCue, ShowView
from showfloor.engine.inputs import (
    REASON,
    Act,
    Advanced,
    AnswerGiven,
    ChoiceMade,
    Closed,
    DefaultLanguageSet,
    Input,
    LanguageChanged,
    Started,
    StillHere,
    Tick,
    VisitEnded,
    to_json,
)
from showfloor.engine.session import Session
from showfloor.errors import ContentError

PROTOCOL_VERSION = 1

#: Interface strings every exhibit has; ``ui:`` in exhibit.yaml overrides them.
UI_STRINGS: dict[str, dict[str, str]] = {
    "still_there": {"zh-CN": "你还在吗？", "zh-TW": "你還在嗎？", "en": "Are you still there?"},
    "still_here": {"zh-CN": "我还在", "zh-TW": "我還在", "en": "I'm still here"},
    "resetting": {"zh-CN": "{seconds} 秒后重新开始", "zh-TW": "{seconds} 秒後重新開始",
                  "en": "Starting over in {seconds} s"},
    "next": {"zh-CN": "继续", "zh-TW": "繼續", "en": "Continue"},
    "check": {"zh-CN": "提交答案", "zh-TW": "提交答案", "en": "Check answer"},
    "correct": {"zh-CN": "回答正确", "zh-TW": "回答正確", "en": "Correct"},
    "incorrect": {"zh-CN": "再想一想", "zh-TW": "再想一想", "en": "Not quite"},
    "partly": {"zh-CN": "部分正确", "zh-TW": "部分正確", "en": "Partly right"},
    "timed_out": {"zh-CN": "时间到", "zh-TW": "時間到", "en": "Time's up"},
    "score": {"zh-CN": "得分", "zh-TW": "得分", "en": "Score"},
    "question": {"zh-CN": "第 {n} 题，共 {count} 题", "zh-TW": "第 {n} 題，共 {count} 題",
                 "en": "Question {n} of {count}"},
    "captions": {"zh-CN": "字幕", "zh-TW": "字幕", "en": "Captions"},
    "language": {"zh-CN": "English", "zh-TW": "English", "en": "中文"},
    "restart": {"zh-CN": "回到开始", "zh-TW": "回到開始", "en": "Back to start"},
    "source": {"zh-CN": "资料来源", "zh-TW": "資料來源", "en": "Source"},
    "accessibility": {"zh-CN": "显示设置", "zh-TW": "顯示設定", "en": "Display settings"},
    "large_text": {"zh-CN": "大字号", "zh-TW": "大字號", "en": "Large text"},
    "high_contrast": {"zh-CN": "高对比度", "zh-TW": "高對比度", "en": "High contrast"},
    "reconnecting": {"zh-CN": "正在重新连接…", "zh-TW": "正在重新連線…", "en": "Reconnecting…"},
    "choose_all": {"zh-CN": "可多选：选出所有正确的答案", "zh-TW": "可複選：選出所有正確的答案",
                   "en": "Choose all the answers that are right"},
    "your_answer": {"zh-CN": "你的选择", "zh-TW": "你的選擇", "en": "Your answer"},
    "right_answer": {"zh-CN": "正确答案", "zh-TW": "正確答案", "en": "Right answer"},
    "picked_right": {"zh-CN": "你选对了", "zh-TW": "你選對了", "en": "You picked this — right"},
    "picked_wrong": {"zh-CN": "你选了这个，但它不对", "zh-TW": "你選了這個，但它不對",
                     "en": "You picked this — not right"},
    "missed": {"zh-CN": "你漏选了", "zh-TW": "你漏選了", "en": "You missed this one"},
    "not_picked": {"zh-CN": "没有选", "zh-TW": "沒有選", "en": "Not picked"},
    "summary": {"zh-CN": "你答对了 {correct} 题，共 {count} 题",
                "zh-TW": "你答對了 {correct} 題，共 {count} 題",
                "en": "You got {correct} of {count} right"},
    "summary_points": {"zh-CN": "你得了 {score} 分，满分 {max} 分",
                       "zh-TW": "你得了 {score} 分，滿分 {max} 分",
                       "en": "You scored {score} of {max} points"},
    "summary_questions": {"zh-CN": "{count} 题中答对 {correct} 题",
                          "zh-TW": "{count} 題中答對 {correct} 題",
                          "en": "{correct} of {count} questions right"},
    "worth_one": {"zh-CN": "其中 1 题值 {points} 分", "zh-TW": "其中 1 題值 {points} 分",
                  "en": "1 question is worth {points} points"},
    "worth_many": {"zh-CN": "其中 {n} 题各值 {points} 分", "zh-TW": "其中 {n} 題各值 {points} 分",
                   "en": "{n} questions are worth {points} points each"},
    "time_left": {"zh-CN": "剩余 {seconds} 秒", "zh-TW": "剩餘 {seconds} 秒",
                  "en": "{seconds} s left"},
    "problems": {"zh-CN": "展品内容有问题", "zh-TW": "展品內容有問題",
                 "en": "This exhibit has problems"},
    "language_switch": {"zh-CN": "切换语言", "zh-TW": "切換語言", "en": "Switch language"},
}

#: Notices shown in every language of the exhibit at once (not part of a view's ``ui``,
#: so views that do not show them keep their digests); ``ui:`` in exhibit.yaml overrides them.
NOTICE_STRINGS: dict[str, dict[str, str]] = {
    "closed": {"zh-CN": "本展项现在暂停开放", "zh-TW": "本展項現在暫停開放",
               "en": "This exhibit is closed now"},
}


class Phase(Enum):
    """Where the station is."""

    ATTRACT = "attract"
    SESSION = "session"
    WARNING = "warning"  # in a session, counting down to a reset


class Transition(Enum):
    """Every named transition of :class:`Phase`."""

    START = "start"  # ATTRACT → SESSION: a visitor touched the screen
    IDLE_WARNING = "idle_warning"  # SESSION → WARNING: no input for idle.timeout
    STILL_HERE = "still_here"  # WARNING → SESSION: the visitor came back
    TIMEOUT = "timeout"  # WARNING → ATTRACT: the countdown ran out
    FINISH = "finish"  # SESSION/WARNING → ATTRACT: the visit ended normally
    END_VISIT = "end_visit"  # SESSION/WARNING → ATTRACT: the operator ended it (or closed)
    CLOSE = "close"  # ATTRACT → ATTRACT, closed: no visit can start (operator, "attract-only")
    OPEN = "open"  # ATTRACT, closed → ATTRACT: visits can start again


def new_session_id() -> str:
    """An anonymous, random session id: 128 bits, nothing about the visitor."""
    return secrets.token_hex(16)


def new_seed() -> int:
    return secrets.randbits(32)


class Engine:
    """Events in, effects out.

    ``media_length`` tells the engine how long a media file plays (the
    station reads the files; the engine does not). ``views=False`` and
    ``digests=False`` skip work that simulation does not need: without digests
    the engine records neither view digests nor inputs, so its log cannot be
    replayed. ``seq`` is where event numbering starts: a station that swaps in
    new content gives the new engine the old one's ``seq``, so event ids stay
    unique in its log.
    """

    def __init__(
        self,
        exhibit: Exhibit,
        *,
        clock: Clock = monotonic,
        media_length: Callable[[str], float | None] | None = None,
        idle_timeout: float | None = None,
        idle_countdown: float | None = None,
        new_id: Callable[[], str] = new_session_id,
        new_seed: Callable[[], int] = new_seed,
        views: bool = True,
        digests: bool = True,
        origin: str | None = None,
        seq: int = 0,
    ) -> None:
        self.exhibit = exhibit
        self.clock = clock
        self._lengths = media_length or (lambda path: None)
        self._length_cache: dict[str, float | None] = {}
        self.idle_timeout = idle_timeout if idle_timeout is not None else exhibit.idle.timeout
        self.idle_countdown = (idle_countdown if idle_countdown is not None
                               else exhibit.idle.countdown)
        self.new_id = new_id
        self.new_seed = new_seed
        self.views = views
        self.digests = digests
        self.origin = origin
        self.default_language = exhibit.default_language
        self.languages = tuple(exhibit.languages)
        types = registry()
        self.scenes: dict[str, SceneBase] = {s.id: s for s in exhibit.scenes}
        self.types: dict[str, SceneType] = {s.id: types[s.type] for s in exhibit.scenes}
        for key in ("attract", "start"):
            if getattr(exhibit, key) not in self.scenes:
                raise ContentError(f"{key} scene '{getattr(exhibit, key)}' does not exist",
                                   hint="run 'showfloor check' on the exhibit")
        self.var_types = {n: v.type for n, v in exhibit.variables.items()}
        self.defaults = {n: variable_default(v) for n, v in exhibit.variables.items()}
        self.ui = {**UI_STRINGS, **{k: dict(v) for k, v in exhibit.ui.items()}}
        self.notices = {k: {**v, **dict(exhibit.ui.get(k, {}))} for k, v in NOTICE_STRINGS.items()}
        self._ui_cache: dict[str, dict[str, str]] = {}
        #: per language: the ui strings shown in another language (text → its language)
        self._ui_foreign: dict[str, dict[str, str]] = {}
        self._ui_json: dict[int, bytes] = {}
        self._exprs: dict[ExprSource, expressions.Expr] = {}
        self._gotos: dict[str, Goto] = {}
        self.phase = Phase.ATTRACT
        self.closed = False  # closed to visitors by the operator ("attract-only")
        self.session: Session | None = None
        self.lang = self.default_language
        self.seq = seq
        self.now = clock()
        self.last_input = self.now
        self.warn_until = 0.0
        self.sessions = 0
        self._out: list[Effect] = []
        self._view: dict[str, Any] | None = None

    # -- helpers the session uses -----------------------------------------
    def compiled(self, source: ExprSource) -> expressions.Expr:
        e = self._exprs.get(source)
        if e is None:
            e = self._exprs[source] = expressions.parse(source, known=self.var_types)
        return e

    def goto(self, target: str) -> Goto:
        g = self._gotos.get(target)
        if g is None:
            g = self._gotos[target] = Goto(target)
        return g

    def media_length(self, path: str) -> float | None:
        if path not in self._length_cache:
            self._length_cache[path] = self._lengths(path)
        return self._length_cache[path]

    def _record(self, kind: str, data: Mapping[str, Any]) -> None:
        s = self.session
        self.seq += 1
        self._out.append(RecordEvent(Event(
            self.seq, self.now, kind, s.id if s else None,
            s.scene.id if s and s.scene else None, data)))

    def _input(self, inp: Input) -> None:
        """Record an input that changes something: the replay log's source of truth."""
        if self.digests:
            self._record("input", {"input": to_json(inp)})

    # -- the public surface -----------------------------------------------
    def start(self) -> list[Effect]:
        """Announce the engine and show the attract scene."""
        self._out = []
        self.now = self.clock()
        ex = self.exhibit
        data: dict[str, Any] = {"exhibit": ex.id, "version": ex.version,
                                "protocol": PROTOCOL_VERSION}
        if self.origin:
            data["path"] = self.origin
        self._record("engine_started", data)
        self._show()
        return self._flush()

    def feed(self, inp: Input) -> list[Effect]:
        """Handle one input; return what should happen."""
        self._out = []
        if isinstance(inp, Tick):
            self._tick(inp)
            return self._flush()
        now = self.clock()
        if now > self.now:
            self.now = now
        s = self.session
        if s is not None:
            # deadlines due before this input happen first
            self._run_deadlines(self.now)
            s = self.session
        if isinstance(inp, (Closed, DefaultLanguageSet, VisitEnded)):
            return self._operator(inp)
        if isinstance(inp, LanguageChanged):
            return self._language(inp)
        if s is None:
            if isinstance(inp, Started) and self.closed:
                self._out.append(Rejected(inp.type, "the station is closed now: no visit can "
                                          "start until the operator opens it again"))
            elif isinstance(inp, Started):
                self._start(inp)
            else:
                self._out.append(Rejected(inp.type, "no visit in progress: touch to start"))
            return self._flush()
        s.now = self.now
        last, self.last_input = self.last_input, self.now
        if self.phase is Phase.WARNING:
            self._input(inp)
            self._transition(Transition.STILL_HERE)
            self._show()
            return self._flush()
        if isinstance(inp, StillHere):
            self._input(inp)  # nothing to answer; the timer was reset above (replay must know)
            return self._flush()
        if isinstance(inp, Started):
            self.last_input = last  # rejected: nothing changed, not even the idle timer
            self._out.append(Rejected(inp.type, "a visit is already in progress"))
            return self._flush()
        action, payload = _action(inp)
        assert s.scene is not None
        before, seq = len(self._out), self.seq
        self._input(inp)
        outcome = self.types[s.scene.id].act(s.scene, s, action, payload)
        if outcome is None:
            del self._out[before:]
            self.seq = seq
            self.last_input = last  # rejected and not recorded: the idle timer is unchanged
            self._out.append(Rejected(inp.type, f"'{action}' does not apply to "
                                      f"scene '{s.scene.id}' now"))
            return self._flush()
        self._apply(outcome)
        return self._flush()

    def next_deadline(self) -> float | None:
        """When the next thing happens without input (None in attract)."""
        s = self.session
        if s is None:
            return None
        if self.phase is Phase.WARNING:
            return self.warn_until
        assert s.scene is not None
        st = self.types[s.scene.id]
        idle_from = self.last_input
        busy = st.busy_until(s.scene, s)
        if busy is not None and busy > idle_from:
            idle_from = busy
        idle = idle_from + self.idle_timeout
        d = st.deadline(s.scene, s)
        return idle if d is None or idle < d else d

    def view(self, now: float | None = None) -> dict[str, Any]:
        """The current view, as last shown.

        With ``now`` (for a page that connects while the view shows), a countdown
        in it (``seconds_left``, until the scene's deadline) is brought up to that
        time, so the page goes on counting where the others are, not from the start.
        """
        if self._view is None:
            self._view = self._build_view()
        view = self._view
        s = self.session
        if now is None or "seconds_left" not in view or s is None or s.scene is None:
            return view
        deadline = self.types[s.scene.id].deadline(s.scene, s)
        if deadline is None:
            return view
        return {**view, "seconds_left": round(max(0.0, deadline - now), 3)}

    def snapshot(self) -> dict[str, Any]:
        """The engine's state, for tests and the station's status page."""
        s = self.session
        return {"phase": self.phase.value, "lang": self.lang, "closed": self.closed,
                "default_language": self.default_language,
                "scene": s.scene.id if s and s.scene else self.exhibit.attract,
                "session": s.id if s else None, "vars": dict(s.vars) if s else None}

    # -- inside -------------------------------------------------------------
    def _flush(self) -> list[Effect]:
        out, self._out = self._out, []
        return out

    def _tick(self, inp: Tick) -> None:
        if inp.now > self.now:
            self.now = inp.now
        if self.session is None:
            return
        d = self.next_deadline()
        if d is None or d > self.now:
            return
        self._input(inp)
        self._run_deadlines(self.now)

    def _run_deadlines(self, now: float) -> None:
        """Process every deadline up to ``now``, each at its own time."""
        for _ in range(10_000):  # a bound, in case a scene type keeps a deadline in the past
            s = self.session
            if s is None:
                break
            d = self.next_deadline()
            if d is None or d > now:
                break
            at = max(d, s.entered_at if self.phase is Phase.SESSION else d)
            self.now = s.now = at
            if self.phase is Phase.WARNING:
                self._end(EndSession("timeout"), Transition.TIMEOUT)
                continue
            assert s.scene is not None
            st = self.types[s.scene.id]
            sd = st.deadline(s.scene, s)
            if sd is not None and sd <= d:
                busy = st.busy_until(s.scene, s)
                outcome = st.expire(s.scene, s)
                if outcome is not None:
                    if busy is not None and busy > self.last_input:
                        # watching media is not idling: the timer starts when it ends
                        self.last_input = min(busy, at)
                    self._apply(outcome)
                    continue
            self.warn_until = at + self.idle_countdown
            self._transition(Transition.IDLE_WARNING)
            self._show()
        self.now = max(self.now, now)

    def _transition(self, t: Transition) -> None:
        if t is Transition.IDLE_WARNING:
            self.phase = Phase.WARNING
            self._record("idle_warning", {"countdown": self.idle_countdown})
        elif t is Transition.STILL_HERE:
            self.phase = Phase.SESSION
            self._record("still_here", {})
        elif t is Transition.START:
            self.phase = Phase.SESSION
        elif t is Transition.CLOSE:
            self.closed = True
            self._record("closed", {"closed": True})
        elif t is Transition.OPEN:
            self.closed = False
            self._record("closed", {"closed": False})
        else:  # TIMEOUT, FINISH, END_VISIT
            self.phase = Phase.ATTRACT

    def _start(self, inp: Started) -> None:
        sid = inp.session or self.new_id()
        seed = inp.seed if inp.seed is not None else self.new_seed()
        self.sessions += 1
        self.session = Session(self, sid, seed, self.now, self.lang, self.defaults)
        self.last_input = self.now
        self._transition(Transition.START)
        self._input(Started(sid, seed))
        self._record("session_started", {"lang": self.lang})
        self._enter(self.exhibit.start, None)

    def _language(self, inp: LanguageChanged) -> list[Effect]:
        if inp.lang not in self.languages:
            self._out.append(Rejected(inp.type, f"language '{inp.lang}' is not offered; "
                                      f"use one of {', '.join(self.languages)}"))
            return self._flush()
        s = self.session
        if s is not None:
            self.last_input = self.now
            s.now = self.now
        self._input(inp)
        if self.phase is Phase.WARNING:
            self._transition(Transition.STILL_HERE)
        if inp.lang != self.lang:
            self.lang = inp.lang
            if s is not None:
                s.lang = inp.lang
            self._record("language_changed", {"lang": inp.lang})
        self._show()
        return self._flush()

    def _operator(self, inp: Closed | DefaultLanguageSet | VisitEnded) -> list[Effect]:
        """An operator command, fed by the station (never by a page).

        It is not a visitor's input: it neither answers an idle warning nor
        resets the idle timer.
        """
        if isinstance(inp, Closed):
            if inp.closed == self.closed:
                state = "closed" if self.closed else "open"
                self._out.append(Rejected(inp.type, f"the station is already {state}"))
                return self._flush()
            self._input(inp)
            if inp.closed:
                self._end(EndSession("closed"), Transition.END_VISIT, show=False)
                self._transition(Transition.CLOSE)
            else:
                self._transition(Transition.OPEN)
            self._show()
        elif isinstance(inp, DefaultLanguageSet):
            if inp.lang not in self.languages:
                self._out.append(Rejected(inp.type, f"language '{inp.lang}' is not offered; "
                                          f"use one of {', '.join(self.languages)}"))
                return self._flush()
            attract = self.session is None
            if inp.lang == self.default_language and (not attract or self.lang == inp.lang):
                self._out.append(Rejected(inp.type, f"'{inp.lang}' is the default language "
                                          "already"))
                return self._flush()
            self._input(inp)
            if inp.lang != self.default_language:
                self.default_language = inp.lang
                self._ui_cache.clear()  # the fallback language of the ui strings changed
                self._ui_foreign.clear()
                self._ui_json.clear()
                self._record("default_language_set", {"lang": inp.lang})
            if attract:
                # the attract screen changes now; a visit in progress keeps its language
                # and the next reset returns to the new default
                self.lang = inp.lang
                self._show()
        else:
            if not REASON.fullmatch(inp.reason):
                self._out.append(Rejected(inp.type, f"reason {inp.reason!r} is not a short id "
                                          "such as 'operator'"))
                return self._flush()
            if self.session is None:
                self._out.append(Rejected(inp.type, "no visit in progress"))
                return self._flush()
            self._input(inp)
            self._end(EndSession(inp.reason), Transition.END_VISIT)
        return self._flush()

    def _apply(self, outcome: Outcome) -> None:
        if isinstance(outcome, Stay):
            self._show()
        elif isinstance(outcome, Goto):
            s = self.session
            self._enter(outcome.target, s.scene.id if s and s.scene else None)
        else:
            self._end(outcome, Transition.FINISH)

    def _enter(self, target: str, came_from: str | None) -> None:
        s = self.session
        assert s is not None
        scene = self.scenes.get(target)
        if scene is None:  # content that was not checked; never crash a station
            self._record("error", {"what": "flow", "detail": f"no scene '{target}'"})
            self._end(EndSession("missing_scene"), Transition.FINISH)
            return
        if s.scene is not None:
            self._record("scene_exited", {"dwell": round(self.now - s.entered_at, 3)})
        s.scene = scene
        s.data = {}
        s.entered_at = s.now = self.now
        s.path.append(target)
        if scene.set:
            s.assign(scene.set)
        self._record("scene_entered", {"from": came_from})
        self.types[target].enter(scene, s)
        self._show()

    def _end(self, outcome: EndSession, t: Transition, show: bool = True) -> None:
        s = self.session
        if s is None:
            return
        if s.scene is not None:
            self._record("scene_exited", {"dwell": round(self.now - s.entered_at, 3)})
        self._record("session_ended", {"reason": outcome.reason,
                                       "duration": round(self.now - s.started_at, 3),
                                       "scenes": len(s.path)})
        self._transition(t)
        self.session = None
        self.lang = self.default_language
        self._out.append(SendCue("reset", {"reason": outcome.reason}))
        if show:
            self._show()

    def _show(self) -> None:
        self._view = None
        if not self.views:
            return
        view = self._build_view()
        self._view = view
        if self.digests:
            self._record("view", {"scene": view["scene"], "digest": self._digest(view)})
        self._out.append(ShowView(view))

    def _digest(self, view: dict[str, Any]) -> str:
        """:func:`digest`, with the (shared, per-language) ui strings serialized once."""
        ui = view["ui"]
        head = self._ui_json.get(id(ui))
        if head is None:
            head = self._ui_json[id(ui)] = _canonical({"ui": ui})
        rest = {k: v for k, v in view.items() if k != "ui"}
        return hashlib.blake2b(head + _canonical(rest), digest_size=12).hexdigest()

    def _build_view(self) -> dict[str, Any]:
        s = self.session
        lang = self.lang
        if s is None:
            scene = self.scenes[self.exhibit.attract]
            rt: Any = _AttractRuntime(self)
        else:
            assert s.scene is not None
            scene, rt = s.scene, s
        foreign: dict[str, str] = {}
        rt.foreign = foreign
        body = self.types[scene.id].view(scene, rt)
        ui = self._ui_cache.get(lang)
        if ui is None:
            ui = self._ui_cache[lang] = {k: _pick(v, lang, self.default_language)
                                         for k, v in self.ui.items()}
            self._ui_foreign[lang] = {ui[k]: _lang_of(v, ui[k]) for k, v in self.ui.items()
                                      if lang not in v and ui[k]}
        ui_foreign = self._ui_foreign.get(lang)
        if ui_foreign:
            foreign = {**ui_foreign, **foreign}
        view: dict[str, Any] = {
            "v": PROTOCOL_VERSION,
            "phase": self.phase.value,
            "scene": scene.id,
            "type": scene.type,
            "lang": lang,
            "languages": list(self.languages),
            "ui": ui,
            **body,
        }
        if self.phase is Phase.WARNING:
            view["overlay"] = {"kind": "idle_warning", "countdown": self.idle_countdown}
        if self.closed:
            view["closed"] = True
            view["closed_notice"] = self._notice("closed", lang)
        if foreign:
            # text in another language (a missing translation): text → its language,
            # so that the page marks it with lang= and a screen reader switches voice
            view["text_lang"] = foreign
        return view

    def _notice(self, key: str, lang: str) -> list[dict[str, str]]:
        """A notice in every language of the exhibit, ``lang`` first (the same text once)."""
        text = self.notices[key]
        out: list[dict[str, str]] = []
        seen: set[str] = set()
        for code in (lang, *(c for c in self.languages if c != lang)):
            line = _pick(text, code, self.default_language)
            if line and line not in seen:
                seen.add(line)
                out.append({"lang": code if code in text else _lang_of(text, line), "text": line})
        return out


class _AttractRuntime:
    """The runtime of the attract scene: no session, no variables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lang = engine.lang
        self.now = engine.now
        self.vars: dict[str, Any] = dict(engine.defaults)
        self.data: dict[str, Any] = {}
        self.entered_at = engine.now
        self.foreign: dict[str, str] = {}

    def text(self, text: Mapping[str, str] | None) -> str | None:
        if not text:
            return None
        s = _pick(text, self.lang, self.engine.default_language)
        if self.lang not in text and s:
            self.foreign[s] = _lang_of(text, s)
        return s


def _pick(text: Mapping[str, str], lang: str, default: str) -> str:
    s = text.get(lang)
    if s is None:
        s = text.get(default)
        if s is None:
            s = next((v for k, v in text.items() if k != "id"), "")
    return s


def _lang_of(text: Mapping[str, str], line: str) -> str:
    """The language a fallback ``line`` was picked from."""
    return next((k for k, v in text.items() if v == line), "")


def _action(inp: Input) -> tuple[str, Mapping[str, Any]]:
    if isinstance(inp, ChoiceMade):
        return "choose", {"choice": inp.choice}
    if isinstance(inp, AnswerGiven):
        return "answer", {"question": inp.question, "choices": list(inp.choices)}
    if isinstance(inp, Advanced):
        return "advance", {}
    if isinstance(inp, Act):
        return inp.action, inp.payload
    return inp.type, {}


def _canonical(value: Mapping[str, Any]) -> bytes:
    """Canonical JSON (sorted keys, compact, UTF-8) via orjson: ~8× faster than json."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def digest(view: Mapping[str, Any]) -> str:
    """A short, stable fingerprint of a view (for replay comparison).

    The ui strings are hashed first, then the rest of the view, so that an
    engine can serialize its per-language ui strings once.
    """
    rest = {k: v for k, v in view.items() if k != "ui"}
    return hashlib.blake2b(_canonical({"ui": view.get("ui")}) + _canonical(rest),
                           digest_size=12).hexdigest()
