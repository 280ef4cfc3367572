"""``ask``: a visitor asks a question and gets a reviewed answer from the knowledge base.

The engine never sees what a visitor types. The page sends the typed text to
the station, whose retriever resolves it (:mod:`showfloor.ask`) and feeds the
engine ``act ask {outcome, entry, related, bucket, via}`` instead; a payload
that carries any other key — a ``text`` above all — is refused. Chips, the
topic list and related questions go straight to the engine as ``act pick``.

States: ``asking`` (the prompt, chips, topics), ``answer`` (an entry's answer;
its ``kind`` says whether it is a normal, a safety or a help answer), ``refused``
(no entry was sure enough: related questions and "ask a member of staff"),
``topic`` (one topic's questions). Each question asked or picked is recorded as
an ``asked`` event: the outcome, the entry id, the score bucket, how it was asked
and the language — never the text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from showfloor.content.model import (
    EntryId,
    Exhibit,
    Flow,
    Knowledge,
    KnowledgeEntry,
    MoreImage,
    SceneBase,
    Tag,
    Text,
    Topic,
)
from showfloor.content.scenes.base import (
    STAY,
    Edge,
    Goto,
    LintContext,
    Option,
    Outcome,
    Runtime,
    SceneType,
    flow_edges,
)

#: The prompt when a scene gives none.
PROMPT = {"id": "ui.ask_prompt", "zh-CN": "你想知道什么？", "zh-TW": "你想知道什麼？",
          "en": "What would you like to know?"}
#: The label of the "more" link when its scene has no title.
MORE = {"id": "ui.ask_more", "zh-CN": "了解更多", "zh-TW": "了解更多", "en": "Learn more"}
#: Chips shown when a scene names no ``suggested`` entries.
DEFAULT_CHIPS = 6
#: The most related questions shown (an ``ask`` payload's ``related`` is cut to this).
MAX_RELATED = 4

OUTCOMES = ("answer", "refused", "safety", "help")
BUCKETS = ("high", "mid", "low")
ASK_VIA = ("typed", "chip")
PICK_VIA = ("chip", "topic", "related")
_ASK_KEYS = frozenset({"outcome", "entry", "related", "bucket", "via"})
_PICK_KEYS = frozenset({"entry", "via"})


class AskScene(SceneBase):
    type: Literal["ask"]
    prompt: Text | None = Field(
        default=None, description="The question above the keyboard (default: 'What would "
        "you like to know?').")
    suggested: list[EntryId] = Field(
        default_factory=list, description="Entry ids for the first chips (default: the "
        "first entries in scope).")
    tags: list[Tag] = Field(
        default_factory=list, description="Keep to entries with any of these tags (default: "
        "every entry).")
    next: Flow
    _more: tuple[tuple[str, str], ...] = PrivateAttr(default=())

    @property
    def more_targets(self) -> tuple[tuple[str, str], ...]:
        """(scene id, entry id) of each scene an answer in scope goes to for more."""
        return self._more


def in_scope(s: AskScene, e: KnowledgeEntry) -> bool:
    """Whether ``e`` is one of the scene's entries (its ``tags``, if any)."""
    return not s.tags or any(t in e.tags for t in s.tags)


def browsable(s: AskScene, e: KnowledgeEntry) -> bool:
    """Whether ``e`` may be shown as a question to pick (chips, topics, related).

    Safety entries never are: their phrasings are the questions a hall does not
    put on a screen ("where can I buy …"); they are only reached by asking.
    """
    return e.kind != "safety" and in_scope(s, e)


def _knowledge(rt: Runtime) -> Knowledge:
    return rt.exhibit.knowledge or Knowledge()


def _question(e: KnowledgeEntry, rt: Runtime) -> str:
    """An entry's question: its first phrasing in the visitor's language."""
    for lang in (rt.lang, rt.exhibit.default_language):
        qs = e.questions.get(lang)
        if qs:
            return qs[0]
    return next((qs[0] for qs in e.questions.values() if qs), e.id)


def _chip(e: KnowledgeEntry, rt: Runtime) -> dict[str, str]:
    return {"id": e.id, "question": _question(e, rt)}


def _topics(s: AskScene, kb: Knowledge) -> list[tuple[Topic, list[KnowledgeEntry]]]:
    out = []
    for t in kb.topics:
        entries = [e for e in t.entries if browsable(s, e)]
        if entries:
            out.append((t, entries))
    return out


def _related_of(s: AskScene, kb: Knowledge, entry: KnowledgeEntry) -> list[str]:
    """For a picked entry: the next browsable entries of its topic."""
    for t in kb.topics:
        if any(e is entry for e in t.entries):
            return [e.id for e in t.entries if e is not entry and browsable(s, e)][:MAX_RELATED]
    return []


def _source(ex: Exhibit, source_id: str | None, rt: Runtime) -> dict[str, str] | None:
    if source_id is None:
        return None
    for src in ex.sources:
        if src.id == source_id:
            name = src.name if isinstance(src.name, str) else rt.text(src.name) or src.id
            return {"name": name, "url": src.url}
    return None


def _more(ex: Exhibit, e: KnowledgeEntry, rt: Runtime) -> dict[str, Any] | None:
    if e.more is None or e.kind != "answer":
        return None
    if isinstance(e.more, MoreImage):
        return {"image": e.more.image, "alt": rt.text(e.more.alt)}
    target = ex.scene(e.more)
    if target is None:
        return None
    return {"scene": e.more, "label": rt.text(target.title) or rt.text(MORE)}


class Ask(SceneType):
    name = "ask"
    model = AskScene
    summary = ("A self-learning terminal: a visitor asks, and gets a reviewed answer "
               "from the knowledge base (knowledge/*.yaml), or an honest refusal.")

    # -- content side ---------------------------------------------------
    def edges(self, scene: Any) -> Iterable[Edge]:
        s: AskScene = scene
        yield from flow_edges(s.next, ("next",))
        # every scene an answer in scope can go to for more (set by bind_knowledge)
        for target, entry_id in s.more_targets:
            yield Edge(target, ("id",), None, f"more of {entry_id}")

    def lint(self, scene: Any, ctx: LintContext) -> None:
        s: AskScene = scene
        kb = ctx.exhibit.knowledge
        if kb is None:
            ctx.error(("type",), f"ask scene '{s.id}' has no knowledge base to answer from",
                      "add knowledge/*.yaml to the exhibit, one file per topic "
                      "(see docs/ask.md)")
            return
        ids = {e.id: e for e in kb.entries}
        unchecked: set[str] = getattr(getattr(ctx, "loaded", None), "unchecked_entries", set())
        for i, entry_id in enumerate(s.suggested):
            e = ids.get(entry_id)
            if e is None:
                if entry_id in unchecked:
                    continue
                near = difflib.get_close_matches(entry_id, list(ids), n=1)
                ctx.error(("suggested", i), f"ask scene '{s.id}' suggests entry "
                          f"'{entry_id}', which is not in the knowledge base",
                          f"did you mean '{near[0]}'?" if near else
                          "give the id of an entry in knowledge/*.yaml")
            elif e.kind == "safety":
                ctx.error(("suggested", i), f"ask scene '{s.id}' suggests safety entry "
                          f"'{entry_id}'", "a safety entry is only reached by asking: "
                          "suggest another entry")
            elif not in_scope(s, e):
                ctx.error(("suggested", i), f"ask scene '{s.id}' suggests entry "
                          f"'{entry_id}', which has none of the scene's tags "
                          f"({', '.join(s.tags)})", "suggest an entry with one of them, or "
                          "add the tag to the entry")
        known_tags = sorted({t for e in kb.entries for t in e.tags})
        for i, tag in enumerate(s.tags):
            if tag not in known_tags:
                near = difflib.get_close_matches(tag, known_tags, n=1)
                ctx.error(("tags", i), f"ask scene '{s.id}' keeps to tag '{tag}', which no "
                          "entry has", f"did you mean '{near[0]}'?" if near else
                          (f"tags in use: {', '.join(known_tags[:12])}" if known_tags else
                           "tag entries with 'tags: [...]'"))
        if s.tags and set(s.tags) <= set(known_tags) \
                and not any(browsable(s, e) for e in kb.entries):
            ctx.warning(("tags",), f"ask scene '{s.id}' has no entry to show: none in scope "
                        "can be browsed", "widen 'tags', or add entries")

    # -- engine side ----------------------------------------------------
    def enter(self, scene: Any, rt: Runtime) -> None:
        rt.data.update(state="asking", entry=None, related=[], topic=None, asked=0)

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: AskScene = scene
        d = rt.data
        ex = rt.exhibit
        kb = _knowledge(rt)
        if s.suggested:
            chips = [e for e in (kb.entry(i) for i in s.suggested)
                     if e is not None and browsable(s, e)]
        else:
            chips = [e for e in kb.entries if browsable(s, e)][:DEFAULT_CHIPS]
        topics = _topics(s, kb)
        out: dict[str, Any] = {
            "type": "ask", "title": rt.text(s.title), "prompt": rt.text(s.prompt or PROMPT),
            "state": d["state"], "suggested": [_chip(e, rt) for e in chips],
            "topics": [{"id": t.id, "title": rt.text(t.title), "count": len(es)}
                       for t, es in topics],
            "topic": None, "answer": None, "related": [], "asked": d["asked"],
        }
        if d["state"] == "topic":
            for t, es in topics:
                if t.id == d["topic"]:
                    out["topic"] = {"id": t.id, "title": rt.text(t.title),
                                    "entries": [_chip(e, rt) for e in es]}
            if out["topic"] is None:
                out["state"] = "asking"
        entry = kb.entry(d["entry"]) if d["entry"] else None
        if d["state"] == "answer" and entry is None:
            out["state"] = "asking"  # an entry gone with new content: back to asking
        if d["state"] == "answer" and entry is not None:
            out["answer"] = {
                "id": entry.id, "kind": entry.kind, "question": _question(entry, rt),
                "text": rt.text(entry.answer), "source": _source(ex, entry.source, rt),
                "more": _more(ex, entry, rt),
            }
        out["related"] = [_chip(e, rt) for e in (kb.entry(i) for i in d["related"])
                          if e is not None]
        return out

    def act(self, scene: Any, rt: Runtime, action: str, payload: Mapping[str, Any]
            ) -> Outcome | None:
        s: AskScene = scene
        d = rt.data
        kb = _knowledge(rt)
        if not isinstance(payload, Mapping):
            return None
        if action == "ask":
            return self._ask(s, rt, kb, payload)
        if action == "pick":
            if set(payload) - _PICK_KEYS:
                return None
            picked = payload.get("entry")
            entry = kb.entry(picked) if isinstance(picked, str) else None
            via = payload.get("via", "chip")
            if entry is None or not browsable(s, entry) or via not in PICK_VIA:
                return None
            self._show(rt, entry, _related_of(s, kb, entry), None, via)
            return STAY
        if action == "more":
            if d["state"] != "answer" or not d["entry"]:
                return None
            entry = kb.entry(d["entry"])
            if entry is None or entry.kind != "answer" or not isinstance(entry.more, str):
                return None
            if rt.exhibit.scene(entry.more) is None:
                return None
            rt.record("ask_more", entry=entry.id, scene=entry.more)
            return Goto(entry.more)
        if action == "topic":
            topic_id = payload.get("topic")
            if set(payload) - {"topic"} or not isinstance(topic_id, str):
                return None
            if not any(t.id == topic_id for t, _ in _topics(s, kb)):
                return None
            d.update(state="topic", topic=topic_id, entry=None, related=[])
            return STAY
        if action == "back":
            if d["state"] == "asking":
                return None
            d.update(state="asking", topic=None, entry=None, related=[])
            return STAY
        if action == "advance":
            return rt.follow(s.next)
        return None

    def _ask(self, s: AskScene, rt: Runtime, kb: Knowledge, payload: Mapping[str, Any]
             ) -> Outcome | None:
        """A question the station resolved: check every key, and never keep text."""
        if set(payload) - _ASK_KEYS:
            return None  # a 'text' key above all: the engine never sees what was typed
        outcome = payload.get("outcome")
        bucket = payload.get("bucket")
        via = payload.get("via", "typed")
        raw_related = payload.get("related", [])
        if outcome not in OUTCOMES or bucket not in BUCKETS or via not in ASK_VIA:
            return None
        if not isinstance(raw_related, list) or not all(
                isinstance(r, str) and kb.entry(r) is not None for r in raw_related):
            return None
        related = [r for r in dict.fromkeys(raw_related)
                   if browsable(s, kb.entry(r))][:MAX_RELATED]  # type: ignore[arg-type]
        entry_id = payload.get("entry")
        if outcome == "refused":
            if entry_id is not None:
                return None
            d = rt.data
            d.update(state="refused", entry=None, related=related, topic=None)
            d["asked"] += 1
            rt.record("asked", outcome="refused", entry=None, bucket=bucket, via=via,
                      lang=rt.lang)
            return STAY
        entry = kb.entry(entry_id) if isinstance(entry_id, str) else None
        if entry is None or entry.kind != outcome:
            return None  # the outcome is the entry's kind: a safety answer is never normal
        self._show(rt, entry, [r for r in related if r != entry.id], bucket, via)
        return STAY

    def _show(self, rt: Runtime, entry: KnowledgeEntry, related: list[str],
              bucket: str | None, via: str) -> None:
        d = rt.data
        d.update(state="answer", entry=entry.id, related=related, topic=None)
        d["asked"] += 1
        rt.record("asked", outcome=entry.kind, entry=entry.id, bucket=bucket, via=via,
                  lang=rt.lang)

    def options(self, scene: Any, rt: Runtime) -> list[Option]:
        s: AskScene = scene
        d = rt.data
        kb = _knowledge(rt)
        opts: list[Option] = []
        if d["state"] == "answer" and d["entry"]:
            entry = kb.entry(d["entry"])
            read = len(rt.text(entry.answer) or "") if entry else 0
            if entry is not None and isinstance(entry.more, str) and entry.kind == "answer" \
                    and rt.exhibit.scene(entry.more) is not None:
                opts.append(Option("more", read=read, label=f"more {entry.id}"))
            opts += [Option("pick", {"entry": r, "via": "related"}, read=read,
                            label=f"related {r}") for r in d["related"]]
            opts.append(Option("back", read=read))
            opts.append(Option("advance", read=read))
            return opts
        if d["state"] == "topic":
            for t, es in _topics(s, kb):
                if t.id == d["topic"]:
                    opts += [Option("pick", {"entry": e.id, "via": "topic"}, read=20,
                                    label=e.id) for e in es]
            opts.append(Option("back"))
            return opts
        chips = [e for e in (kb.entry(i) for i in s.suggested) if e is not None] \
            if s.suggested else [e for e in kb.entries if browsable(s, e)][:DEFAULT_CHIPS]
        opts += [Option("pick", {"entry": e.id, "via": "chip"}, read=20, label=e.id)
                 for e in chips if browsable(s, e)]
        opts += [Option("topic", {"topic": t.id}, read=10, label=f"topic {t.id}")
                 for t, _ in _topics(s, kb)]
        opts.append(Option("advance", read=10))
        return opts


def bind_knowledge(exhibit: Exhibit) -> None:
    """Give each ask scene of ``exhibit`` the scenes its answers go to for more, so its
    ``edges`` (which see the scene only) include them. Loading calls this; a target
    that does not exist is left out (the knowledge base's lint reports it)."""
    kb = exhibit.knowledge
    ids = {sc.id for sc in exhibit.scenes}
    for sc in exhibit.scenes:
        if not isinstance(sc, AskScene):
            continue
        targets: dict[str, str] = {}
        for e in kb.entries if kb is not None else ():
            if isinstance(e.more, str) and e.kind == "answer" and in_scope(sc, e) \
                    and e.more in ids and e.more != sc.id:
                targets.setdefault(e.more, e.id)
        sc._more = tuple(targets.items())
