"""``showfloor new NAME``: a small bilingual exhibit that passes ``check`` and runs."""

from __future__ import annotations

import re
from pathlib import Path

from showfloor.content.model import Exhibit
from showfloor.errors import ShowfloorError

EXHIBIT = """\
# yaml-language-server: $schema=exhibit.schema.json
# A new showfloor exhibit. Run `showfloor check .` after every change, and
# `showfloor simulate . --visitors 1000` to see how visitors move through it.
format: 1
id: {id}
version: 0.1.0
# Write every text in each language: `check` warns when two languages read the same.
title: {{zh-CN: {title_zh}, en: {title_en}}}
description:
  zh-CN: 一个新的互动展项。
  en: A new interactive exhibit.
languages: [zh-CN, en]
default_language: zh-CN
audience: {{min_age: 10, max_age: 18}}
sources:
  # Name every source of the facts you show, and cite it with `source:`.
  - id: yaml-org
    name: yaml.org — YAML Ain't Markup Language
    url: https://yaml.org/
# Names and commands that read the same in every language (any other text that
# does is reported as untranslated).
same_in_all_languages: [showfloor check]
idle: {{timeout: 60, countdown: 15}}
attract: attract
start: welcome
variables:
  curious: {{type: bool, default: false}}
  quiz_score: {{type: int, default: 0}}
  quiz_percent: {{type: int, default: 0}}
scenes:
  - id: attract
    type: attract
    loop:
      - {{image: media/attract.png, duration: 8}}
    call: {{zh-CN: 触摸屏幕开始, en: Touch to start}}
"""

SCENES = """\
# Scenes are read from every scenes/*.yaml file, in file-name order.
- id: welcome
  type: story
  title: {zh-CN: 欢迎, en: Welcome}
  text:
    zh-CN: 这是你的第一个展项。选一个选项继续。
    en: This is your first exhibit. Pick a choice to go on.
  # a picture that tells something needs alt: {zh-CN: …, en: …}; this one only decorates
  image: {src: media/attract.png, decorative: true}
  choices:
    - id: tell_me_more
      label: {zh-CN: 告诉我更多, en: Tell me more}
      set: {curious: true}
      goto: quiz
    - id: straight_to_quiz
      label: {zh-CN: 直接答题, en: Straight to the quiz}
      goto: quiz

- id: quiz
  type: quiz
  title: {zh-CN: 小测验, en: A short quiz}
  pass_mark: 50
  results: {score: quiz_score, percent: quiz_percent}
  questions:
    - id: q1
      kind: true-false
      prompt:
        zh-CN: YAML 是一种人能直接读写的纯文本格式。
        en: YAML is a plain-text format that people can read and write.
      answer: true
      source: yaml-org
      explanation:
        zh-CN: 对。展项的内容就写在 YAML 文件里，和代码分开，策展人不用写程序。
        en: Right. An exhibit's content is written in YAML files, apart from code, so
          curators need not program.
    - id: q2
      kind: single
      prompt: {zh-CN: 哪个命令检查展项？, en: Which command checks an exhibit?}
      choices:
        - id: check
          text: {zh-CN: showfloor check, en: showfloor check}
          correct: true
          feedback: {zh-CN: 对，它会指出文件、行和列。, en: "Yes: it points at the file, line and column."}
        - id: guess
          text: {zh-CN: 凭感觉, en: Guessing}
          feedback: {zh-CN: 不如让工具来检查。, en: Better let the tool check.}
  next:
    - when: quiz_percent >= 50
      goto: well_done
    - goto: goodbye

- id: well_done
  type: media
  title: {zh-CN: 做得好, en: Well done}
  body: {zh-CN: 你已经掌握了基础。, en: You have the basics.}
  # a picture that tells something needs alt: {zh-CN: …, en: …}; this one only decorates
  image: {src: media/attract.png, decorative: true}
  advance: button
  next: goodbye

- id: goodbye
  type: end
  messages:
    - when: curious
      text:
        zh-CN: 谢谢你的好奇心！得分：{quiz_score}
        en: "Thanks for being curious! Score: {quiz_score}"
    - text:
        zh-CN: 谢谢参观！得分：{quiz_score}
        en: "Thanks for visiting! Score: {quiz_score}"
  duration: 15
"""


#: The Chinese title of a new exhibit (its English one comes from the folder's name).
TITLE_ZH = "我的展项"


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug or not slug[0].isalnum():
        raise ShowfloorError(f"'{name}' does not make a usable exhibit id",
                             )
    return slug[:64]


def scaffold(target: str | Path) -> Path:
    """Write a new exhibit folder at ``target``; refuse to overwrite anything."""
    root = Path(target)
    if root.exists() and any(root.iterdir()):
        raise ShowfloorError(f"{root} already exists and is not empty; choose a new name")
    slug = _slug(root.name)
    title = root.name.replace("-", " ").replace("_", " ").strip().title() or slug
    (root / "scenes").mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(exist_ok=True)
    (root / "exhibit.yaml").write_text(
        EXHIBIT.format(id=slug, title_zh=TITLE_ZH, title_en=title), encoding="utf-8")
    (root / "scenes" / "10-main.yaml").write_text(SCENES, encoding="utf-8")
    _attract_image(root / "media" / "attract.png")
    import json

    from showfloor.content.schema import exhibit_schema

    (root / "exhibit.schema.json").write_text(json.dumps(exhibit_schema(), indent=1),
                                              encoding="utf-8")
    return root


def _attract_image(path: Path) -> None:
    """A calm gradient with soft circles, drawn here so nothing is downloaded."""
    from PIL import Image, ImageDraw, ImageFilter

    w, h = 1280, 720
    img = Image.new("RGB", (w, h))
    px = ImageDraw.Draw(img)
    for y in range(h):
        t = y / h
        px.line([(0, y), (w, y)], fill=(int(12 + 20 * t), int(48 + 60 * t), int(72 + 50 * t)))
    glow = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    g = ImageDraw.Draw(glow)
    for cx, cy, r, col in ((360, 300, 180, (255, 196, 120, 90)),
                           (860, 420, 240, (120, 220, 210, 80)),
                           (640, 220, 110, (255, 240, 200, 70))):
        g.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
    glow = glow.filter(ImageFilter.GaussianBlur(40))
    img.paste(glow, (0, 0), glow)
    img.quantize(64).save(path, optimize=True)


def placeholder_exhibit() -> Exhibit:
    """A tiny in-memory exhibit a preview runs while the real one has errors."""
    from showfloor.content.scenes.attract import AttractScene, LoopItem
    from showfloor.content.scenes.end import EndScene, Message

    return Exhibit(
        format=1, id="placeholder", version="0", title={"en": "Preview", "zh-CN": "预览"},
        languages=["zh-CN", "en"], default_language="zh-CN", attract="attract", start="end",
        scenes=[
            AttractScene(id="attract", type="attract", loop=[LoopItem(image="-", duration=60)],
                         call={"en": "Fix the errors to preview", "zh-CN": "请先修正错误"}),
            EndScene(id="end", type="end", messages=[Message(text={"en": "", "zh-CN": ""})]),
        ])
