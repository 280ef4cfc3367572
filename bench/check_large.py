"""`showfloor check` on a generated 1,000-scene exhibit (goal: ≤ 0.5 s).

Generates a bilingual exhibit of stories, media, quizzes and endings wired
into one graph, then times loading + lint. Baseline in the same process:
loading alone (YAML + schema), so the table shows what lint itself costs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, percentile, table
from showfloor.content.lint import check
from showfloor.content.load import load

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f3"
    "a8f10000000049454e44ae426082")


def generate(root: Path, scenes: int) -> None:
    (root / "scenes").mkdir(parents=True)
    (root / "media").mkdir()
    (root / "media" / "x.png").write_bytes(PNG)
    (root / "exhibit.yaml").write_text("""\
format: 1
id: large
version: "1"
title: {zh-CN: 大展项, en: Large}
languages: [zh-CN, en]
default_language: zh-CN
sources: [{id: who, name: WHO, url: "https://www.who.int/"}]
attract: attract
start: s0
variables:
  score: {type: int, default: 0}
  seen: {type: int, default: 0}
scenes:
  - id: attract
    type: attract
    loop: [{image: media/x.png, duration: 5}]
    call: {zh-CN: 开始, en: Start}
""", encoding="utf-8")
    per_file = 100
    n = scenes - 1
    for f in range(0, n, per_file):
        out = []
        for i in range(f, min(f + per_file, n)):
            nxt = f"s{i + 1}" if i + 1 < n - 1 else f"s{n - 1}"
            kind = ("story", "media", "quiz")[i % 3] if i < n - 1 else "end"
            if kind == "story":
                out.append(f"""\
- id: s{i}
  type: story
  text: {{zh-CN: 第{i}段故事, en: Story part {i}}}
  image: media/x.png
  choices:
    - {{id: a, label: {{zh-CN: 好, en: Yes}}, set: {{score: score + 1}}, goto: {nxt}}}
    - id: b
      label: {{zh-CN: 不, en: No}}
      next: [{{when: score > 2 and seen < 5, goto: {nxt}}}, {{goto: {nxt}}}]
""")
            elif kind == "media":
                out.append(f"""\
- id: s{i}
  type: media
  title: {{zh-CN: 标题{i}, en: Title {i}}}
  body: {{zh-CN: "正文 {{score}}", en: "Body {{score}}"}}
  image: media/x.png
  source: who
  set: {{seen: seen + 1}}
  next: {nxt}
""")
            elif kind == "quiz":
                out.append(f"""\
- id: s{i}
  type: quiz
  questions:
    - id: q1
      prompt: {{zh-CN: 问题{i}, en: Question {i}}}
      source: who
      choices:
        - {{id: a, text: {{zh-CN: 甲, en: A}}, correct: true}}
        - {{id: b, text: {{zh-CN: 乙, en: B}}}}
    - {{id: q2, kind: true-false, prompt: {{zh-CN: 对吗{i}, en: True {i}?}}, answer: true}}
  next: {nxt}
""")
            else:
                out.append(f"""\
- id: s{i}
  type: end
  messages:
    - {{when: score > 10, text: {{zh-CN: 很好, en: Great}}}}
    - text: {{zh-CN: 谢谢, en: Thanks}}
""")
        (root / "scenes" / f"{f // per_file:03d}.yaml").write_text("".join(out), "utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "large"
        generate(root, args.scenes)
        report = check(root)
        assert report.exhibit is not None, [str(p) for p in report.problems[:5]]
        assert len(report.exhibit.scenes) == args.scenes
        assert not report.errors, [str(p) for p in report.errors[:5]]
        loads, checks = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            load(root)
            loads.append(time.perf_counter() - t)
            t = time.perf_counter()
            check(root)
            checks.append(time.perf_counter() - t)
    rows = [
        ["load (YAML + schema), baseline", f"{median(loads):.3f}", f"{percentile(loads, 99):.3f}",
         "1.00"],
        ["check (load + lint)", f"{median(checks):.3f}", f"{percentile(checks, 99):.3f}",
         f"{median(checks) / median(loads):.2f}"],
    ]
    table(f"check on a generated {args.scenes}-scene exhibit ({args.runs} runs; goal ≤ 0.5 s)",
          ["what", "median s", "p99 s", "× baseline"], rows)


if __name__ == "__main__":
    main()
