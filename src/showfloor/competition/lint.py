"""``check``'s rules for the ``competitions:`` block (docs/competition.md)."""

from __future__ import annotations

from typing import Any

from showfloor.content.scenes.quiz import QuizScene


def lint_competitions(lt: Any) -> None:
    """Pools that are not quiz scenes, too few questions, team names that break the
    competition's own rules, and competition ids used twice."""
    ex = lt.exhibit
    seen: dict[str, int] = {}
    quizzes = [s.id for s in ex.scenes if isinstance(s, QuizScene)]
    for i, comp in enumerate(ex.competitions):
        at = ("competitions", i)
        if comp.id in seen:
            lt._add("error", (*at, "id"), f"duplicate competition id '{comp.id}'",
                    "rename one", "duplicate-id")
        seen.setdefault(comp.id, i)
        have = 0
        for j, pool in enumerate(comp.pools):
            scene = ex.scene(pool)
            if isinstance(scene, QuizScene):
                have += len(scene.questions)
                continue
            what = f"scene '{pool}' is a '{scene.type}' scene" if scene is not None \
                else f"there is no scene '{pool}'"
            hint = (f"name a quiz scene: {', '.join(quizzes[:5])}" if quizzes
                    else "add a quiz scene whose questions the competition can ask")
            lt._add("error", (*at, "pools", j), f"competition '{comp.id}' draws questions "
                    f"from '{pool}', but {what}", hint, "competition")
        if have and have < comp.questions:
            lt._add("warning", (*at, "questions"), f"competition '{comp.id}' asks "
                    f"{comp.questions} questions but its pools hold {have}",
                    f"set 'questions: {have}' or add questions to the pools", "competition")
        blocked = [w.casefold() for w in comp.blocked_words]
        for j, name in enumerate(comp.teams):
            for lang, text in name.items():
                if lang == "id":
                    continue
                if len(text) > comp.team_name_max:
                    lt._add("error", (*at, "teams", j, lang), f"team name '{text}' has "
                            f"{len(text)} characters; team_name_max is {comp.team_name_max}",
                            "shorten it, or raise team_name_max", "competition")
                word = next((w for w in blocked if w in text.casefold()), None)
                if word is not None:
                    lt._add("error", (*at, "teams", j, lang), f"team name '{text}' holds "
                            f"the blocked word '{word}'", "pick another name", "competition")
