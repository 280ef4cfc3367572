"""``end``: a summary whose message is picked by conditions; then back to attract."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from showfloor.content._images import image_asset, image_view
from showfloor.content.model import ExprSource, ImageRef, Model, SceneBase, Text
from showfloor.content.scenes.base import (
    Asset,
    EndSession,
    LintContext,
    Option,
    Outcome,
    Runtime,
    SceneType,
)

#: How an ending feels, and the mark it shows above the title: ``celebrate`` (a star),
#: ``well_done`` (a tick), ``encourage`` (a sprout: keep going) or ``thanks`` (a heart,
#: the default). A tick is only ever shown when a message asks for it.
Mood = Literal["celebrate", "well_done", "encourage", "thanks"]


class Message(Model):
    when: ExprSource | None = None
    text: Text
    mood: Mood = Field(default="thanks", description=(
        "How the ending feels, and its mark: celebrate (a star), well_done (a tick), "
        "encourage (a sprout) or thanks (a heart)."))


class EndScene(SceneBase):
    type: Literal["end"]
    messages: Annotated[list[Message], Field(min_length=1)]
    image: ImageRef | None = None
    duration: Annotated[float, Field(gt=0, le=600)] = 20


class End(SceneType):
    name = "end"
    model = EndScene
    terminal = True
    summary = "A closing message picked by conditions on variables; then back to attract."

    def edges(self, scene: Any) -> Iterable[Any]:
        return ()

    def assets(self, scene: Any) -> Iterable[Asset]:
        s: EndScene = scene
        yield from image_asset(s.image, ("image",), "end")

    def lint(self, scene: Any, ctx: LintContext) -> None:
        s: EndScene = scene
        for i, m in enumerate(s.messages):
            if m.when is not None:
                ctx.check_expr(("messages", i, "when"), m.when)
        if s.messages[-1].when is not None:
            ctx.warning(("messages", len(s.messages) - 1, "when"),
                        "the last message has a condition: some visitors may see no message",
                        "drop 'when' from the last message so it is the default")
        for i, m in enumerate(s.messages):
            for lang, said in m.text.items():
                heading = (s.title or {}).get(lang)
                if lang == "id" or not heading or not _plain(heading):
                    continue
                if _plain(said).startswith(_plain(heading)):
                    ctx.warning(("messages", i, "text", lang), f"message {i + 1} starts with "
                                f"the title '{heading}' ({lang}): the screen would say it twice",
                                "begin the message with something new")
        for i, m in enumerate(s.messages[:-1]):
            if m.when is None:
                ctx.warning(("messages", i), f"message {i + 1} has no condition, so the "
                            "messages after it are never shown", "move it last")
                break

    def _message(self, s: EndScene, rt: Runtime) -> int | None:
        for i, m in enumerate(s.messages):
            if m.when is None or rt.truth(m.when):
                return i
        return None

    def enter(self, scene: Any, rt: Runtime) -> None:
        s: EndScene = scene
        picked = self._message(s, rt)
        rt.data["message"] = picked
        rt.record("ending_shown", message=picked)

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: EndScene = scene
        i = rt.data["message"]
        return {
            "title": rt.text(s.title),
            "text": rt.text(s.messages[i].text) if i is not None else None,
            "message": i,
            "mood": s.messages[i].mood if i is not None else "thanks",
            "image": image_view(s.image, rt),
            "duration": s.duration,
        }

    def deadline(self, scene: Any, rt: Runtime) -> float | None:
        return rt.entered_at + float(scene.duration)

    def expire(self, scene: Any, rt: Runtime) -> Outcome | None:
        return EndSession("completed")

    def act(self, scene: Any, rt: Runtime, action: str, payload: Mapping[str, Any]) -> Outcome | None:
        return EndSession("completed") if action == "advance" else None

    def options(self, scene: Any, rt: Runtime) -> list[Option]:
        s: EndScene = scene
        i = rt.data["message"]
        return [Option("advance", read=len(rt.text(s.messages[i].text) or "") if i is not None
                       else 0)]


def _plain(text: str) -> str:
    """Text without spaces and punctuation, case-folded: what a reader compares."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())
