"""``showfloor check`` on a generated knowledge base: load and lint time by size.

    .venv/bin/python bench/knowledge_check.py [--entries 1000] [--repeat 5]

The knowledge base is written into a temporary copy of tests/ask_exhibit: N
entries in topics of 100, 6 phrasings per language (zh-CN, en), phrasings built
from shared openings ("what happens if", "是不是") and entry-specific words, so
the near-duplicate rule meets the common bigrams real questions share. Prints
the median and p95 of loading (YAML + validation), of the knowledge base's own
rules (wall clock and CPU time: on a shared machine the CPU time is the fairer
figure), and of a whole ``check``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, median, percentile, table
from showfloor.content.knowledge import lint_knowledge
from showfloor.content.lint import BUDGETS, Linter, check
from showfloor.content.load import load

EN_OPEN = ["what happens if", "is it true that", "why do", "how does", "can", "what is",
           "should i worry if", "is it bad that"]
ZH_OPEN = ["如果", "是不是", "为什么", "怎么", "能不能", "什么是", "要不要担心", "会不会"]
ZH_CHARS = ("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会"
            "自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手"
            "十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法")


EN_WORDS = [
    "vape", "vaping", "nicotine", "cigarette", "smoke", "smoking", "alcohol", "beer",
    "drink", "drunk", "cannabis", "weed", "pill", "pills", "medicine", "painkiller",
    "sleeping", "cough", "syrup", "energy", "caffeine", "coffee", "brain", "heart",
    "lungs", "liver", "body", "teeth", "skin", "sleep", "mood", "stress", "anxiety", "sad",
    "angry", "tired", "hungry", "friend", "friends", "party", "school", "teacher",
    "parent", "parents", "mum", "dad", "brother", "sister", "classmate", "online", "video",
    "game", "phone", "money", "shop", "store", "buy", "sell", "try", "once", "twice",
    "every", "day", "week", "weekend", "addicted", "addiction", "habit", "quit", "stop",
    "help", "hotline", "doctor", "nurse", "hospital", "police", "law", "illegal", "legal",
    "age", "adult", "child", "teen", "young", "growing", "grow", "safe", "unsafe",
    "danger", "dangerous", "harmful", "risk", "risky", "healthy", "health", "sport",
    "training", "muscle", "weight", "diet", "fat", "sugar", "flavour", "fruit", "mint",
    "sweet", "smell", "taste", "cool", "popular", "pressure", "refuse", "say", "no", "yes",
    "why", "how", "what", "when", "where", "who", "long", "short", "term", "effect",
    "effects", "damage", "memory", "focus", "exam", "study", "learn", "calm", "relax",
    "fun", "bored", "lonely", "worried", "scared", "secret", "tell", "trust", "share",
    "hide", "found", "family",
]


def _phrase(rng: random.Random, words: list[str]) -> str:
    return " ".join([rng.choice(EN_OPEN), *rng.sample(words, 3)])


def write_knowledge(folder: Path, entries: int, seed: int = 1) -> None:
    """``entries`` generated entries in ``folder/knowledge`` (topics of 100)."""
    rng = random.Random(seed)
    kdir = folder / "knowledge"
    shutil.rmtree(kdir, ignore_errors=True)
    kdir.mkdir(parents=True)
    for t in range(0, entries, 100):
        lines = [f"topic: {{id: t{t // 100:03d}, title: {{zh-CN: 话题{t}, en: Topic {t}}}}}",
                 "entries:"]
        for i in range(t, min(t + 100, entries)):
            words = rng.sample(EN_WORDS, 6)
            chars = "".join(rng.choice(ZH_CHARS) for _ in range(8))
            en = [_phrase(rng, words) for _ in range(6)]
            zh = [f"{rng.choice(ZH_OPEN)}{chars[k:k + 4]}吗" for k in range(6)]
            lines += [
                f"  - id: e{i:05d}",
                "    questions:",
                f"      zh-CN: [{', '.join(zh)}]",
                f"      en: [{', '.join(en)}]",
                f"    answer: {{zh-CN: 回答{chars}。, en: Answer {' '.join(words)}.}}",
                "    source: who",
                "    reviewed_by: Bench",
                "    reviewed_on: 2026-11-20",
                f"    tags: [tag{i % 7}]",
            ]
        (kdir / f"t{t // 100:03d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(shutil.copytree(ROOT / "tests" / "ask_exhibit", Path(tmp) / "ex"))
        for n in args.entries:
            write_knowledge(folder, n)
            loads, rules, cpu, whole = [], [], [], []
            found = 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                loaded = load(folder)
                t1 = time.perf_counter()
                assert loaded.exhibit is not None, [str(p) for p in loaded.problems[:5]]
                lt = Linter(loaded, loaded.exhibit, BUDGETS["touch"])
                c1 = time.process_time()
                lint_knowledge(lt, "touch")
                cpu.append(time.process_time() - c1)
                t2 = time.perf_counter()
                report = check(folder)
                t3 = time.perf_counter()
                found = sum(1 for p in report.problems if p.code == "near-duplicate")
                loads.append(t1 - t0)
                rules.append(t2 - t1)
                whole.append(t3 - t2)
            ms = [f"{median(v) * 1000:.0f} / {percentile(v, 95) * 1000:.0f}"
                  for v in (loads, rules, cpu, whole)]
            rows.append([n, n * 12, *ms, found])
    table("Knowledge base: load and check (ms, median / p95)",
          ["entries", "phrasings", "load", "knowledge rules", "knowledge rules (CPU)",
           "whole check",
           "near-duplicates found"], rows)


if __name__ == "__main__":
    main()
