"""The ``model`` and ``panorama`` scene types: schema, lint, engine behaviour, simulation."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_gltf import tiny_glb

from conftest import DEMO
from showfloor.content import gltf
from showfloor.content.lint import check
from showfloor.content.load import load
from showfloor.content.model import Exhibit
from showfloor.content.scenes import DEFAULT_SCENE_TYPES, registry
from showfloor.content.scenes.model import (
    ModelScene,
    Timeline,
    active_range,
    lerp_colour,
    sample,
    snap,
)
from showfloor.engine import Act, Advanced, Engine, Rejected, ShowView, Started
from showfloor.engine.clock import VirtualClock
from showfloor.engine.effects import RecordEvent
from showfloor.engine.replay import read_events, replay
from showfloor.engine.simulate import simulate

EXHIBIT = """\
format: 1
id: body
version: 1.0.0
title: {en: The body, zh-CN: 身体}
languages: [en, zh-CN]
default_language: en
sources: [{id: who, name: WHO, url: "https://www.who.int/"}]
idle: {timeout: 60, countdown: 10}
attract: attract
start: brain
scenes:
  - id: attract
    type: attract
    loop: [{image: media/pic.png, duration: 5}]
    call: {en: Touch, zh-CN: 触摸}
  - id: brain
    type: model
    title: {en: The brain, zh-CN: 大脑}
    model: media/organ.glb
    body: {en: Turn it, zh-CN: 转一转}
    camera: {distance: 2.5, yaw: 20}
    background: "#102040"
    hotspots:
      - id: front
        node: frontal_lobe
        label: {en: Front, zh-CN: 前面}
        detail:
          text: {en: Plans, zh-CN: 计划}
          image: {src: media/pic.png, fit: contain, alt: {en: A lobe, zh-CN: 脑叶}}
          narration: {en: media/front.en.opus, zh-CN: media/front.zh-CN.opus}
          captions: {en: media/front.en.vtt, zh-CN: media/front.zh-CN.vtt}
        source: who
      - id: back
        node: cerebellum
        label: {en: Back, zh-CN: 后面}
        detail:
          text: {en: Balance, zh-CN: 平衡}
    timeline:
      id: years
      label: {en: Years of use, zh-CN: 使用年数}
      min: 0
      max: 10
      step: 0.5
      start: 1
      unit: {en: years, zh-CN: 年}
      keyframes:
        - at: 0
          morph: {shrink: 0}
          material: {tissue: {base_color: "#f2b8b5", roughness: 0.5}}
        - at: 10
          morph: {shrink: 0.8, smooth: 1}
          material: {tissue: {base_color: "#dcb7b4"}}
      narration:
        - from: 0
          to: 4
          text: {en: Healthy, zh-CN: 健康}
        - from: 4
          to: 10
          text: {en: Changing, zh-CN: 变化}
    source: who
    next: meadow
  - id: meadow
    type: panorama
    title: {en: A meadow, zh-CN: 草地}
    image: media/pano.png
    yaw: 10
    hotspots:
      - id: tree
        yaw: -70
        pitch: 8
        label: {en: A tree, zh-CN: 树}
        detail: {text: {en: Rest, zh-CN: 休息}}
      - id: lake
        yaw: 180
        pitch: -6
        label: {en: To the lake, zh-CN: 去湖边}
        goto: lake
    next: bye
  - id: lake
    type: panorama
    image: media/pano.png
    hotspots:
      - id: back
        yaw: 0
        pitch: 0
        label: {en: Back, zh-CN: 回去}
        goto: meadow
    next: bye
  - id: bye
    type: end
    messages: [{text: {en: Bye, zh-CN: 再见}}]
"""

NARRATION_SECONDS = 12.0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    from PIL import Image

    media = tmp_path / "media"
    media.mkdir()
    (media / "organ.glb").write_bytes(tiny_glb())
    Image.new("RGB", (4, 4)).save(media / "pic.png")
    Image.new("RGB", (64, 32)).save(media / "pano.png")
    for lang in ("en", "zh-CN"):
        (media / f"front.{lang}.opus").write_bytes(b"OggS")
        (media / f"front.{lang}.vtt").write_text(
            "WEBVTT\n\n00:00.000 --> 00:12.000\nPlans\n", "utf-8")
    (tmp_path / "exhibit.yaml").write_text(EXHIBIT, "utf-8")
    gltf.clear_caches()
    return tmp_path


@pytest.fixture
def exhibit(folder: Path) -> Exhibit:
    loaded = load(folder)
    assert loaded.exhibit is not None, loaded.problems
    return loaded.exhibit


def lengths(path: str) -> float | None:
    return NARRATION_SECONDS if path.endswith(".opus") else None


def engine(exhibit: Exhibit, clock: VirtualClock | None = None) -> Engine:
    e = Engine(exhibit, clock=clock or VirtualClock(0.0), media_length=lengths)
    e.start()
    e.feed(Started())
    return e


def events(out: list[Any], kind: str) -> list[dict[str, Any]]:
    return [dict(x.event.data) for x in out if isinstance(x, RecordEvent) and x.event.kind == kind]


def rejected(out: list[Any]) -> bool:
    return any(isinstance(x, Rejected) for x in out)


# -- registry, schema, lint -------------------------------------------------------
def test_both_types_are_registered() -> None:
    assert "showfloor.content.scenes.model:ModelType" in DEFAULT_SCENE_TYPES
    assert "showfloor.content.scenes.panorama:Panorama" in DEFAULT_SCENE_TYPES
    types = registry()
    assert types["model"].model is ModelScene
    assert types["panorama"].name == "panorama"


def test_the_example_checks_clean(folder: Path) -> None:
    report = check(folder)
    assert report.problems == [], "\n".join(map(str, report.problems))


def test_the_json_schema_knows_both_types() -> None:
    import jsonschema

    from showfloor.content.schema import scene_list_schema

    schema = scene_list_schema()
    scenes = yaml.safe_load((DEMO / "scenes" / "15-organs.yaml").read_text("utf-8"))
    jsonschema.validate(scenes, schema)
    bad = [dict(scenes[1], auto_rotate="fast")]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_texts_of_the_new_types_are_found_and_translated(exhibit: Exhibit) -> None:
    from showfloor.content.texts import iter_texts

    ids = {t.id for t in iter_texts(exhibit)}
    assert {"brain.hotspots.front.label", "brain.hotspots.front.detail.text",
            "brain.timeline.label", "brain.timeline.unit", "brain.timeline.narration.1.text",
            "meadow.hotspots.lake.label", "meadow.hotspots.tree.detail.text"} <= ids


def test_a_missing_translation_in_a_hotspot_is_reported(folder: Path) -> None:
    text = (folder / "exhibit.yaml").read_text("utf-8")
    (folder / "exhibit.yaml").write_text(text.replace(
        "label: {en: Back, zh-CN: 后面}", "label: {en: Back}"), "utf-8")
    report = check(folder)
    assert [p.message for p in report.errors] == [
        "text 'brain.hotspots.back.label' is missing in zh-CN"]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("image: media/pano.png\n    yaw: 10", "video: media/pano.png\n    image: media/pano.png",
     "a panorama needs exactly one of 'image' or 'video'"),
    ("        detail: {text: {en: Rest, zh-CN: 休息}}", "",
     "a panorama hotspot needs exactly one of 'detail' or 'goto'"),
    ("          morph: {shrink: 0}", "          morph: {shrink: 2}",
     "it must be at most 1"),
    ('background: "#102040"', "background: navy", "'navy' is not a valid value"),
])
def test_schema_mistakes_are_reported_in_place(folder: Path, old: str, new: str,
                                               message: str) -> None:
    text = (folder / "exhibit.yaml").read_text("utf-8")
    assert old in text
    (folder / "exhibit.yaml").write_text(text.replace(old, new, 1), "utf-8")
    report = check(folder)
    assert any(message in str(p) for p in report.errors), "\n".join(map(str, report.problems))


def test_tour_edges_reach_scenes_only_hotspots_lead_to(folder: Path, exhibit: Exhibit) -> None:
    edges = list(registry()["panorama"].edges(exhibit.scene("meadow")))  # type: ignore[arg-type]
    assert [(e.target, e.label, e.where) for e in edges] == [
        ("bye", "next", ("next",)), ("lake", "hotspot lake", ("hotspots", 1, "goto"))]
    # 'lake' is reached only through the hotspot: not reported as unreachable
    assert not [p for p in check(folder).problems if p.code == "unreachable"]


# -- the timeline, as the renderer interpolates it ------------------------------------
def timeline(**kw: Any) -> Timeline:
    base: dict[str, Any] = {"id": "t", "label": {"en": "t"}, "min": 0, "max": 10, "step": 1,
                            "keyframes": [{"at": 0}],
                            "narration": [{"from": 0, "to": 4, "text": {"en": "a"}},
                                          {"from": 4, "to": 10, "text": {"en": "b"}}]}
    return Timeline.model_validate({**base, **kw})


@pytest.mark.parametrize(("step", "value", "settled"), [
    (1, 4.4, 4.0), (1, 4.5, 4.0), (1, 4.6, 5.0), (1, 12, 10.0), (1, -3, 0.0),
    (0.5, 2.26, 2.5), (0.1, 0.3000001, 0.3), (3, 9.9, 9.0), (3, 10, 9.0),
])
def test_snap_clamps_to_the_range_and_the_step_grid(step: float, value: float,
                                                    settled: float) -> None:
    assert snap(timeline(step=step), value) == settled


def test_the_active_range_is_half_open_and_the_last_holds_max() -> None:
    t = timeline()
    assert [active_range(t, v) for v in (0, 3.9, 4, 9.9, 10)] == [0, 0, 1, 1, 1]
    gap = timeline(narration=[{"from": 2, "to": 4, "text": {"en": "a"}}])
    assert [active_range(gap, v) for v in (1, 2, 4, 10)] == [None, 0, None, None]


def test_sample_interpolates_each_channel_between_the_keyframes_that_give_it() -> None:
    t = timeline(keyframes=[
        {"at": 0, "morph": {"shrink": 0}, "material": {"tissue": {"base_color": "#000000",
                                                                   "roughness": 0.2}}},
        {"at": 4, "morph": {"smooth": 1}},
        {"at": 10, "morph": {"shrink": 1}, "material": {"tissue": {"base_color": "#ffffff",
                                                                    "roughness": 0.8}}},
    ])
    mid = sample(t, 5)
    assert mid["morph"] == {"shrink": 0.5, "smooth": 1}  # smooth: held after its only keyframe
    assert mid["material"]["tissue"]["roughness"] == pytest.approx(0.5)
    assert mid["material"]["tissue"]["base_color"] == "#bcbcbc"  # mixed in linear light
    assert sample(t, 0)["morph"] == {"shrink": 0, "smooth": 1}
    assert sample(t, 10)["material"]["tissue"]["base_color"] == "#ffffff"
    assert lerp_colour("#f2b8b5", "#f2b8b5", 0.3) == "#f2b8b5"


# -- the engine: model ------------------------------------------------------------------
def test_entering_a_model_scene_sets_the_start_and_draws_everything(exhibit: Exhibit) -> None:
    e = engine(exhibit)
    v = e.view()
    assert v["type"] == "model"
    body = {k: v[k] for k in v if k not in ("v", "phase", "scene", "type", "lang", "languages",
                                              "ui")}
    assert set(body) == {"title", "body", "model", "camera", "auto_rotate", "background",
                         "hotspots", "open", "timeline", "source"}
    assert (v["title"], v["body"], v["model"], v["background"]) == (
        "The brain", "Turn it", "media/organ.glb", "#102040")
    assert v["camera"] == {"distance": 2.5, "yaw": 20, "pitch": 10, "fov": 35,
                           "min_distance": 1.6, "max_distance": 6, "min_pitch": -45,
                           "max_pitch": 75}
    assert v["auto_rotate"] == 6
    assert v["open"] is None
    assert v["hotspots"][0] == {
        "id": "front", "node": "frontal_lobe", "label": "Front", "source": "who",
        "detail": {"text": "Plans", "narration": "media/front.en.opus",
                   "image": {"src": "media/pic.png", "alt": "A lobe", "decorative": False,
                             "fit": "contain", "focus": [0.5, 0.5]},
                   "captions": "media/front.en.vtt"}}
    assert v["hotspots"][1]["detail"]["narration"] is None
    t = v["timeline"]
    assert {k: t[k] for k in ("id", "label", "min", "max", "step", "unit", "value", "active")} \
        == {"id": "years", "label": "Years of use", "min": 0, "max": 10, "step": 0.5,
            "unit": "years", "value": 1, "active": 0}
    assert t["keyframes"][1] == {"at": 10, "morph": {"shrink": 0.8, "smooth": 1},
                                 "material": {"tissue": {"base_color": "#dcb7b4"}}}
    assert t["narration"] == [
        {"from": 0, "to": 4, "text": "Healthy", "narration": None, "captions": None},
        {"from": 4, "to": 10, "text": "Changing", "narration": None, "captions": None}]
    json.dumps(v)  # plain JSON all the way down


def test_the_view_follows_the_language(exhibit: Exhibit) -> None:
    from showfloor.engine import LanguageChanged

    e = engine(exhibit)
    e.feed(LanguageChanged("zh-CN"))
    v = e.view()
    assert (v["title"], v["hotspots"][0]["label"], v["timeline"]["unit"]) == ("大脑", "前面", "年")
    assert v["hotspots"][0]["detail"]["narration"] == "media/front.zh-CN.opus"


def test_hotspots_open_and_close(exhibit: Exhibit) -> None:
    clock = VirtualClock(0.0)
    e = engine(exhibit, clock)
    clock.now = 5.0
    out = e.feed(Act("hotspot", {"id": "front"}))
    assert e.view()["open"] == "front"
    assert events(out, "hotspot_opened") == [{"hotspot": "front"}]
    assert any(isinstance(x, ShowView) for x in out)
    # its narration plays: the idle timer waits for it
    assert e.next_deadline() == 5.0 + NARRATION_SECONDS + e.idle_timeout
    out = e.feed(Act("hotspot", {"id": "front"}))  # again: nothing new to record
    assert not rejected(out) and events(out, "hotspot_opened") == []
    out = e.feed(Act("hotspot", {"id": "back"}))
    assert e.view()["open"] == "back" and events(out, "hotspot_opened") == [{"hotspot": "back"}]
    out = e.feed(Act("hotspot", {"id": None}))
    assert e.view()["open"] is None and not rejected(out)
    for payload in ({"id": None}, {"id": "nope"}, {}, {"id": 3}):
        assert rejected(e.feed(Act("hotspot", payload))), payload
    assert e.view()["scene"] == "brain"


def test_the_timeline_settles_clamps_snaps_and_records(exhibit: Exhibit) -> None:
    e = engine(exhibit)
    out = e.feed(Act("timeline", {"value": 4.3}))
    assert events(out, "timeline_set") == [{"timeline": "years", "value": 4.5}]
    assert (e.view()["timeline"]["value"], e.view()["timeline"]["active"]) == (4.5, 1)
    for raw, settled in ((99, 10), (-5, 0), (7.74, 7.5)):
        out = e.feed(Act("timeline", {"timeline": "years", "value": raw}))
        assert events(out, "timeline_set") == [{"timeline": "years", "value": settled}]
    for payload in ({"value": "4"}, {"value": True}, {}, {"value": float("nan")},
                    {"value": float("inf")}, {"timeline": "other", "value": 3}):
        assert rejected(e.feed(Act("timeline", payload))), payload
    assert e.view()["timeline"]["value"] == 7.5


def test_advance_follows_next_and_a_new_visit_starts_fresh(exhibit: Exhibit) -> None:
    e = engine(exhibit)
    e.feed(Act("hotspot", {"id": "back"}))
    e.feed(Act("timeline", {"value": 9}))
    e.feed(Advanced())
    assert e.view()["scene"] == "meadow"
    e2 = engine(exhibit)
    assert (e2.view()["open"], e2.view()["timeline"]["value"]) == (None, 1)


def test_a_model_without_a_timeline_refuses_timeline_actions(folder: Path) -> None:
    text = (folder / "exhibit.yaml").read_text("utf-8")
    start, end = text.index("    timeline:\n"), text.index("    source: who\n    next: meadow")
    (folder / "exhibit.yaml").write_text(text[:start] + text[end:], "utf-8")
    ex = load(folder).exhibit
    assert ex is not None
    e = engine(ex)
    assert e.view()["timeline"] is None
    assert rejected(e.feed(Act("timeline", {"value": 3})))


# -- the engine: panorama -----------------------------------------------------------------
def test_panorama_view_and_hotspot_panels(exhibit: Exhibit) -> None:
    e = engine(exhibit)
    e.feed(Advanced())
    v = e.view()
    assert v["type"] == "panorama"
    assert v["panorama"] == {"image": "media/pano.png", "video": None}
    assert (v["yaw"], v["pitch"], v["fov"], v["open"]) == (10, 0, 75, None)
    assert v["hotspots"] == [
        {"id": "tree", "yaw": -70, "pitch": 8, "label": "A tree", "goto": None, "source": None,
         "detail": {"text": "Rest", "image": None, "narration": None, "captions": None}},
        {"id": "lake", "yaw": 180, "pitch": -6, "label": "To the lake", "goto": "lake",
         "source": None, "detail": None}]
    out = e.feed(Act("hotspot", {"id": "tree"}))
    assert e.view()["open"] == "tree" and events(out, "hotspot_opened") == [{"hotspot": "tree"}]
    e.feed(Act("hotspot", {"id": None}))
    assert e.view()["open"] is None
    assert rejected(e.feed(Act("hotspot", {"id": "nope"})))


def test_a_panorama_hotspot_with_goto_tours_to_its_scene(exhibit: Exhibit) -> None:
    e = engine(exhibit)
    e.feed(Advanced())
    out = e.feed(Act("hotspot", {"id": "lake"}))
    assert e.view()["scene"] == "lake"
    assert events(out, "hotspot_opened") == [{"hotspot": "lake"}]
    assert events(out, "scene_entered") == [{"from": "meadow"}]
    e.feed(Act("hotspot", {"id": "back"}))
    assert e.view()["scene"] == "meadow" and e.view()["open"] is None
    e.feed(Advanced())
    assert e.view()["scene"] == "bye"


# -- simulated visitors and replay ------------------------------------------------------------
def test_simulated_visitors_explore_and_reach_every_scene(exhibit: Exhibit, tmp_path: Path) -> None:
    report = simulate(exhibit, 300, seed=3, media_length=lengths)
    assert {"brain", "meadow", "lake", "bye"} <= {s for s, n in report.reached.items() if n}
    assert report.never_taken == []
    log = tmp_path / "events.jsonl"
    simulate(exhibit, 20, seed=4, media_length=lengths, record=log)
    kinds = [ev.kind for ev in read_events(log)]
    assert "timeline_set" in kinds and "hotspot_opened" in kinds
    assert replay(exhibit, read_events(log), media_length=lengths).ok


def test_options_open_unseen_hotspots_move_the_timeline_and_advance(exhibit: Exhibit) -> None:
    e = engine(exhibit)
    s = e.session
    assert s is not None and s.scene is not None
    st = registry()["model"]
    labels = [o.label for o in st.options(s.scene, s)]
    assert labels == ["hotspot front", "hotspot back", "timeline 4", "advance"]
    assert all(o.read > 0 for o in st.options(s.scene, s))
    e.feed(Act("hotspot", {"id": "front"}))
    e.feed(Act("timeline", {"value": 4}))
    labels = [o.label for o in st.options(s.scene, s)]
    assert labels == ["hotspot back", "timeline 10", "advance"]
    e.feed(Act("timeline", {"value": 10}))
    assert [o.label for o in st.options(s.scene, s)] == ["hotspot back", "advance"]


# -- the demo ------------------------------------------------------------------------------------
def test_the_demo_organ_scenes_check_clean_and_are_reached() -> None:
    report = check(DEMO)
    assert report.problems == [], "\n".join(map(str, report.problems))
    assert report.exhibit is not None
    kinds = {s.id: s.type for s in report.exhibit.scenes}
    organs = ["organ_brain", "organ_heart", "organ_lungs", "organ_liver"]
    assert [kinds[o] for o in organs] == ["model"] * 4
    assert kinds["calm_place"] == "panorama"
    sim = simulate(report.exhibit, 300, seed=1)
    assert all(sim.reached.get(s.id) for s in report.exhibit.scenes if s.type != "attract")
    for o in organs:
        scene = report.exhibit.scene(o)
        assert isinstance(scene, ModelScene) and scene.timeline is not None
        assert (scene.timeline.min, scene.timeline.max) == (0, 10)
        assert 2 <= len(scene.hotspots) <= 3


def test_a_2d_visitor_path_never_needs_a_3d_renderer() -> None:
    """Choices 0 and 1 of the offer (what the browser walks take) avoid the 3-D scenes;
    the last one goes to the ask terminal."""
    scenes = yaml.safe_load((DEMO / "scenes" / "15-organs.yaml").read_text("utf-8"))
    offer = next(s for s in scenes if s["id"] == "organs_offer")
    assert [c["goto"] for c in offer["choices"]] == ["party", "quiz", "organ_brain", "ask"]


def test_the_station_profiles_for_3d_displays_check_clean() -> None:
    from showfloor.content.lint import check_profile

    for name, display in (("vr", "vr"), ("hologram-pyramid", "hologram-pyramid"),
                          ("hologram-fan", "hologram-fan")):
        profile = DEMO / "stations" / f"{name}.yaml"
        text = textwrap.dedent(profile.read_text("utf-8"))
        assert f"display: {display}" in text
        report = check_profile(profile)
        assert report.errors == [], name
        if name != "hologram-fan":  # the fan's 1-megapixel budget warns about 1080p images
            assert report.warnings == [], name
