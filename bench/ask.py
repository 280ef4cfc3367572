"""The ask terminal's figures (issue 9): answer latency on one core with a generated
1,000-entry knowledge base, memory the retriever adds, cached start-up, and the demo's
labelled-set figures (BM25, embeddings, hybrid side by side).

    python bench/ask.py [--entries 1000] [--questions 300] [--skip-eval]

The generated base's index is cached in $XDG_CACHE_HOME/showfloor (the first run
embeds every phrasing: minutes on one core; later runs read it back).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEMO, ROOT, median, percentile, table

SUBSTANCES = [("alcohol", "酒精"), ("nicotine", "尼古丁"), ("cannabis", "大麻"),
              ("vapes", "电子烟"), ("sleeping pills", "安眠药"), ("painkillers", "止痛药"),
              ("energy drinks", "能量饮料"), ("caffeine", "咖啡因"), ("inhalants", "吸入剂"),
              ("cough syrup", "止咳糖浆"), ("ecstasy", "摇头丸"), ("methamphetamine", "冰毒"),
              ("heroin", "海洛因"), ("cocaine", "可卡因"), ("ketamine", "氯胺酮"),
              ("tobacco", "烟草"), ("sedatives", "镇静剂"), ("diet pills", "减肥药"),
              ("steroids", "类固醇"), ("laughing gas", "笑气")]
ASPECTS = [("the brain", "大脑"), ("the heart", "心脏"), ("the lungs", "肺"),
           ("the liver", "肝脏"), ("sleep", "睡眠"), ("memory", "记忆力"), ("mood", "情绪"),
           ("school marks", "学习成绩"), ("sport", "运动"), ("friendships", "友谊"),
           ("growth", "生长发育"), ("skin", "皮肤"), ("teeth", "牙齿"), ("the family", "家庭"),
           ("money", "金钱"), ("the law", "法律"), ("driving", "驾驶"), ("pregnancy", "怀孕"),
           ("mental health", "心理健康"), ("addiction", "成瘾"), ("the stomach", "胃"),
           ("the eyes", "眼睛"), ("reaction time", "反应速度"), ("weight", "体重"),
           ("hormones", "激素"), ("the kidneys", "肾脏"), ("the bones", "骨骼"),
           ("the blood", "血液"), ("concentration", "注意力"), ("anxiety", "焦虑"),
           ("appetite", "食欲"), ("breathing", "呼吸"), ("the immune system", "免疫系统"),
           ("hearing", "听力"), ("the voice", "嗓子"), ("hair", "头发"), ("muscles", "肌肉"),
           ("blood pressure", "血压"), ("body temperature", "体温"), ("dreams", "做梦"),
           ("learning", "学习能力"), ("decisions", "判断力"), ("self-esteem", "自尊心"),
           ("the nerves", "神经"), ("coordination", "协调能力"), ("balance", "平衡感"),
           ("energy", "精力"), ("the future", "前途"), ("relationships", "人际关系"),
           ("creativity", "创造力")]
EN = ["What do {s} do to {a}?", "How do {s} affect {a}?", "Can {s} harm {a}?"]
ZH = ["{s}对{a}有什么影响", "{s}会伤害{a}吗", "{s}怎样影响{a}"]


def generated(n: int) -> list[Any]:
    """``n`` distinct entries: a substance × an aspect, 3 phrasings per language."""
    from showfloor.content.model import KnowledgeEntry

    pairs = [(s, a) for s in SUBSTANCES for a in ASPECTS][:n]
    out = []
    for i, ((s_en, s_zh), (a_en, a_zh)) in enumerate(pairs):
        out.append(KnowledgeEntry.model_validate({
            "id": f"e{i:04d}", "kind": "answer",
            "questions": {"en": [t.format(s=s_en, a=a_en) for t in EN],
                          "zh-CN": [t.format(s=s_zh, a=a_zh) for t in ZH]},
            "answer": {"en": "A short reviewed answer.", "zh-CN": "一个简短的答案。"},
            "reviewed_by": "bench", "reviewed_on": date(2026, 12, 1), "tags": ["bench"]}))
    return out


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def one_core() -> str:
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        return "pinned to one core"
    except (AttributeError, OSError):
        return "not pinned"


async def station_latency(entries: list[Any], questions: list[str], cache: Path
                          ) -> tuple[list[float], float, float]:
    """Input arriving at the station -> the view leaving it, for each question (ms);
    with the RSS before and after the retriever is ready."""
    from showfloor.content.lint import check
    from showfloor.content.model import Knowledge, Topic
    from showfloor.station.app import Connection, Station
    from showfloor.station.profile import DEFAULT

    report = check(ROOT / "tests" / "ask_exhibit")
    assert report.exhibit is not None
    assert report.exhibit.knowledge is not None
    topic = report.exhibit.knowledge.topics[0]
    knowledge = Knowledge(topics=[Topic(id=topic.id, title=topic.title, entries=entries)])
    exhibit = report.exhibit.model_copy(update={"knowledge": knowledge})
    before = rss_mb()
    station = Station(exhibit, report.root, profile=DEFAULT)
    assert station.ask is not None
    station.ask.cache = cache
    await asyncio.to_thread(station.ask.prepare)
    after = rss_mb()

    sent: list[float] = []

    class Socket:
        async def send_text(self, data: str) -> None:
            if '"type":"view"' in data:
                sent.append(time.perf_counter())

    conn = Connection(ws=Socket())  # type: ignore[arg-type]
    conn.surface = DEFAULT.surfaces[0]
    station.connections.add(conn)
    ref = 0

    async def send(inp: dict[str, Any]) -> float:
        nonlocal ref
        ref += 1
        sent.clear()
        t0 = time.perf_counter()
        await station._input(conn, {"input": inp}, ref)
        return (sent[-1] - t0) * 1000 if sent else float("nan")

    await send({"type": "start"})
    ms: list[float] = []
    for q in questions:
        station.clock = lambda: time.monotonic() + len(ms)  # the rate limit is per second
        ms.append(await send({"type": "act", "action": "ask",
                              "payload": {"text": q, "via": "typed"}}))
    return ms, before, after


def cached_start(n: int) -> float:
    """A fresh process: load the cached index of the generated base (s)."""
    code = ("import sys,time; sys.path.insert(0,'bench'); import ask; "
            "from showfloor.ask.service import AskService; from pathlib import Path; "
            f"e=ask.generated({n}); t=time.perf_counter(); "
            "s=AskService(e, Path('.'), Path(sys.argv[1])); s.prepare(); "
            "print(time.perf_counter()-t)")
    from showfloor.ask.index import default_cache

    out = subprocess.run([sys.executable, "-c", code, str(default_cache())], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--skip-eval", action="store_true")
    args = ap.parse_args()
    pinned = one_core()
    from showfloor.ask.index import default_cache, load_or_build

    entries = generated(args.entries)
    cache = default_cache()
    t0 = time.perf_counter()
    index = load_or_build(entries, cache)
    built = time.perf_counter() - t0
    rng = random.Random(9)
    pool = [q for e in entries for qs in e.questions.values() for q in qs]
    questions = [rng.choice(pool).lower().replace("?", "") for _ in range(args.questions)]
    questions += ["who won the football", "今天天气怎么样", "x" * 10_000, "😀😀", ""]
    ms, before, after = asyncio.run(station_latency(entries, questions, cache))
    start = cached_start(args.entries)
    table(f"ask: {len(index)} entries, {len(index.doc_tokens)} phrasings ({pinned})",
          ["figure", "value", "goal"],
          [["index load or build (this run)", f"{built:.1f} s", "—"],
           ["cached start (fresh process: model, jieba, BM25)", f"{start:.2f} s", "≤ 2 s"],
           ["input -> view, median", f"{median(ms):.1f} ms", "—"],
           ["input -> view, p95", f"{percentile(ms, 95):.1f} ms", "≤ 30 ms"],
           ["input -> view, p99", f"{percentile(ms, 99):.1f} ms", "—"],
           ["RSS added by the retriever", f"{after - before:.0f} MB", "≤ 250 MB"]])
    if args.skip_eval:
        return
    demo_set = ROOT / "examples" / "ask-eval" / "drug-prevention.yaml"
    if not demo_set.is_file():
        print(f"\n(no {demo_set}: eval figures skipped)")
        return
    from rich.console import Console

    from showfloor.ask.commands import ask_eval
    from showfloor.content.lint import check

    report = check(DEMO)
    if report.exhibit is None or report.exhibit.knowledge is None:
        print("\n(the demo has no knowledge base: eval figures skipped)")
        return
    buf = io.StringIO()
    ok = ask_eval(report.root, report.exhibit.knowledge, demo_set, calibrate_it=False,
                  out=Console(file=buf, width=150, highlight=False))
    print("\n### demo labelled set (showfloor ask-eval examples/drug-prevention --set "
          "examples/ask-eval/drug-prevention.yaml)\n")
    print(buf.getvalue())
    print(json.dumps({"goals_met": ok}))


if __name__ == "__main__":
    main()
