"""Station profiles (``station.yaml``): what a station is and how it shows an exhibit.

```yaml
station: {id: hall-a-organs, name: Hall A — the body}
exhibit: ..                  # the exhibit folder, relative to this file
display: touch               # touch | projector | vr | hologram-pyramid | hologram-fan
orientation: landscape       # or portrait
language: zh-CN              # default language (else the exhibit's)
idle: {timeout: 45, countdown: 10}   # overrides the exhibit's
surfaces:
  - {id: main, role: kiosk}
kiosk: {cursor: false, zoom: 1.0}
devices:                     # hall hardware (docs/drivers.md)
  panel: {driver: serial, port: /dev/ttyACM0}
inputs:
  - {device: panel, match: B1, do: {choose: say_no}}
outputs:
  - {when: {scene: party}, device: lights, do: {preset: 3}}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from showfloor.content._yaml import YamlProblem, parse
from showfloor.content.model import Id, Lang, Model
from showfloor.content.problems import Problem
from showfloor.errors import ConfigError

DisplayKind = Literal["touch", "projector", "vr", "hologram-pyramid", "hologram-fan"]
Role = Literal["kiosk", "control", "display"]


class StationId(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=120)]


class Surface(Model):
    """One browser page of the station, and what it is for."""

    id: Id
    role: Role = "kiosk"
    description: str | None = None


class IdleOverride(Model):
    timeout: Annotated[float, Field(gt=0, le=3600)] | None = None
    countdown: Annotated[float, Field(ge=0, le=600)] | None = None


class Kiosk(Model):
    """Options for the kiosk browser (``showfloor kiosk``)."""

    cursor: bool = False
    zoom: Annotated[float, Field(gt=0.25, le=4)] = 1.0
    reload_hours: Annotated[float, Field(ge=0, le=168)] = Field(
        default=24, description="Reload the page at an idle moment after this many hours "
        "(long-running pages leak memory); 0: never.")
    hang_seconds: Annotated[float, Field(ge=5, le=300)] = Field(
        default=10, description="A page that sends nothing (not even its beat) for this "
        "many seconds is hung: the kiosk supervisor kills its renderer and reloads it.")
    memory_mb: Annotated[int, Field(ge=0, le=65536)] = Field(
        default=1500, description="The renderer's memory limit (RSS, MB): over it, the "
        "page is reloaded at the next idle moment; 0: no limit.")
    crash_limit: Annotated[int, Field(ge=1, le=100)] = Field(
        default=5, description="After this many renderer crashes within "
        "crash_window_minutes the kiosk shows the calm fallback page instead.")
    crash_window_minutes: Annotated[float, Field(ge=1, le=1440)] = Field(
        default=10, description="The window, in minutes, in which crash_limit crashes "
        "send the kiosk to the fallback page.")


class Pyramid(Model):
    """A Pepper's-ghost pyramid: four views, 90° apart, mirrored for the glass."""

    faces: Literal[3, 4] = 4
    gap: Annotated[float, Field(ge=0, le=0.45, description="Empty centre, as a share of the "
                                "shorter screen side.")] = 0.2
    mirror: bool = True
    size: Annotated[float, Field(gt=0, le=1, description="Share of the screen's shorter side "
                                 "the four views fill.")] = 1.0


class Fan(Model):
    """A hologram fan or transparent OLED: pure black, no interface, content centred."""

    diameter: Annotated[float, Field(gt=0, le=1, description="Share of the screen's shorter "
                                     "side the content fills.")] = 1.0


class VR(Model):
    """Comfort defaults for headsets."""

    model_size: Annotated[float, Field(gt=0.05, le=3, description="Metres across.")] = 0.5
    height: Annotated[float, Field(gt=0.2, le=2.5, description="Metres above the floor.")] = 1.1
    dwell: Annotated[float, Field(ge=0.3, le=5, description="Seconds of gaze that select.")] = 1.2


class Delivery(Model):
    """New versions from the hub or a USB stick (docs/deploy.md)."""

    trust: list[str] = Field(default_factory=list, description="Publisher keys trusted for "
                             "bundles and rollback instructions: trust-list files (relative "
                             "to this file) or public keys as 'showfloor keys show' prints.")
    root_keys: list[str] = Field(default_factory=list, description="Root public keys that "
                                 "sign the trust list (trust.json) the hub hands out.")
    health_seconds: Annotated[float, Field(ge=1, le=3600)] = Field(
        default=60, description="A new version must have a surface draw its attract view "
        "within this many seconds of the switch, or the previous version comes back.")
    keep: Annotated[int, Field(ge=1, le=100)] = Field(
        default=3, description="How many versions the station keeps (for rollback).")
    min_free_mb: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        default=200, description="Free disk space (MB) a download must leave.")


# -- hall hardware: devices and their mapping (docs/drivers.md) -----------------------

DeviceName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]


class Device(BaseModel):
    """One device: ``driver`` names its driver (an entry point of ``showfloor.drivers``);
    every other key is the driver's own setting, validated by the driver's
    :class:`~showfloor.drivers.base.DriverSettings` model (``check``, and the station
    when it starts the device)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    driver: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64,
                                 description="The driver's name: serial, osc, mqtt, sacn, "
                                 "pjlink, webhook, keyboard, simulated, …")]

    def options(self) -> dict[str, Any]:
        """The driver's settings: every key but ``driver``."""
        return dict(self.model_extra or {})


class ChooseDo(Model):
    """Pick choice ``choose`` in the current scene (a story's choice id)."""

    choose: Id


class AnswerDo(Model):
    """Answer the current quiz question with choice ``answer``."""

    answer: Id


class TimelineRange(Model):
    """The device's value range; it is spread over the current model scene's timeline."""

    min: float = 0
    max: float = 1

    @model_validator(mode="after")
    def _order(self) -> TimelineRange:
        if self.max == self.min:
            raise ValueError("timeline max must differ from min")
        return self


class TimelineDo(Model):
    """Set the current model scene's timeline from the device's value."""

    timeline: TimelineRange = Field(default_factory=TimelineRange)


class ActDo(Model):
    """Any action the current scene type understands (``action`` + ``payload``)."""

    act: Annotated[str, Field(min_length=1, max_length=64)]
    payload: dict[str, Any] = Field(default_factory=dict)


#: ``advance``: next / continue; ``wake``: start a visit from attract (or answer "still
#: there?") and count a passer-by; ``presence``: count a passer-by only.
InputAction = Literal["advance", "wake", "presence"] | ChooseDo | AnswerDo | TimelineDo | ActDo


class InputMap(Model):
    """Device events -> one engine input."""

    device: DeviceName
    kind: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        default=None, description="Only events of this kind (line, key, button, message, "
        "presence, value, …); default: any.")
    address: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Only events from this address (an OSC address, an MQTT "
        "topic, a button number); default: any.")
    match: str | int | float | bool | None = Field(
        default=None, description="Only events whose value equals this (compared as text); "
        "default: any value.")
    do: InputAction
    debounce_ms: Annotated[float, Field(ge=0, le=60_000)] = Field(
        default=50, description="The same input again within this many milliseconds is "
        "one press (contact bounce).")
    max_per_second: Annotated[float, Field(gt=0, le=1000)] = Field(
        default=10, description="More inputs than this per second from this mapping are "
        "dropped (a stuck button); logged once a minute.")


class SceneWhen(Model):
    scene: Id


class CueWhen(Model):
    cue: Annotated[str, Field(min_length=1, max_length=64)]


#: ``visit_started`` / ``visit_ended``; ``closing`` / ``opening``: the station closes to
#: visitors (operator, schedule) or opens again; ``{scene: ID}``: a scene is entered;
#: ``{cue: NAME}``: the engine sends cue NAME.
OutputWhen = Literal["visit_started", "visit_ended", "closing", "opening"] | SceneWhen | CueWhen


class OutputMap(Model):
    """An engine moment -> one device action."""

    when: OutputWhen
    device: DeviceName
    do: dict[str, Any] = Field(description="The driver's action, e.g. {preset: 3}, "
                               "{power: 'off'}, {publish: {topic: …, payload: …}}.")
    timeout: Annotated[float, Field(gt=0, le=300)] = Field(
        default=5, description="Seconds the driver has to carry the action out.")


class AskProfile(Model):
    """The ask terminal's hall settings (docs/ask.md): help text, hotline, privacy."""

    help: dict[Lang, Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=dict, description="The hall's help text per language, shown with "
        "'help' answers (where to find a member of staff, a counsellor).")
    hotline: Annotated[str, Field(pattern=r"^[0-9+() -]{3,32}$")] | None = Field(
        default=None, description="A help line number shown with 'help' answers, e.g. 12355.")
    keep_unanswered: bool = Field(
        default=False, description="Keep refused questions, scrubbed of numbers and e-mail "
        "addresses, for 30 days for curators ('showfloor ask review'). Off: typed text is "
        "never stored.")


class Buzzer(Model):
    """A buzzer box: a keyboard-wedge USB device that types one key per button."""

    name: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        description="The team the box plays for (a team name, shown on the board).")
    keys: Annotated[list[Annotated[str, Field(min_length=1, max_length=12)]],
                    Field(min_length=2, max_length=6)] = Field(
        description="The keys its buttons type, in the order of the answers: the first key "
        "answers A, the second B, … (KeyboardEvent.key names: 1, q, F1, …).")


class CompetitionProfile(Model):
    """This station runs a knowledge competition (docs/competition.md)."""

    id: Id = Field(description="A competition of the exhibit (competitions: in exhibit.yaml).")
    lead: Annotated[float, Field(ge=0.5, le=10)] = Field(
        default=2.0, description="Seconds between the host's 'next' and the question appearing "
        "on every screen at once.")
    host_key_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")] | None = Field(
        default=None, description="An environment variable holding the host page's key; "
        "unset: a new random key at every start, printed by the station.")
    buzzers: list[Buzzer] = Field(
        default_factory=list, description="Buzzer boxes plugged into the leaderboard's "
        "computer, each playing for one team.")

    @model_validator(mode="after")
    def _distinct_keys(self) -> CompetitionProfile:
        seen: dict[str, str] = {}
        for b in self.buzzers:
            for k in b.keys:
                if k in seen:
                    raise ValueError(f"key '{k}' is used by two buzzers ('{seen[k]}' and "
                                     f"'{b.name}'); each button needs its own key")
                seen[k] = b.name
        return self


class StationProfile(Model):
    station: StationId
    exhibit: Annotated[str, Field(min_length=1)] = "."
    display: DisplayKind = "touch"
    orientation: Literal["landscape", "portrait"] = "landscape"
    language: Lang | None = None
    idle: IdleOverride = Field(default_factory=IdleOverride)
    surfaces: Annotated[list[Surface], Field(min_length=1)] = Field(
        default_factory=lambda: [Surface(id="main")])
    kiosk: Kiosk = Field(default_factory=Kiosk)
    start: Id | None = Field(default=None, description="The scene a visit starts at "
                             "(default: the exhibit's start), e.g. an organ station's model.")
    pyramid: Pyramid = Field(default_factory=Pyramid)
    fan: Fan = Field(default_factory=Fan)
    vr: VR = Field(default_factory=VR)
    delivery: Delivery = Field(default_factory=Delivery)
    devices: dict[DeviceName, Device] = Field(
        default_factory=dict, description="Hall hardware: NAME -> {driver: …, its settings} "
        "(docs/drivers.md).")
    inputs: list[InputMap] = Field(default_factory=list, description="Device events -> "
                                   "engine inputs.")
    outputs: list[OutputMap] = Field(default_factory=list, description="Engine moments -> "
                                     "device actions.")
    ask: AskProfile = Field(default_factory=AskProfile, description="The ask terminal: help "
                            "text, hotline, keep_unanswered (docs/ask.md).")
    competition: CompetitionProfile | None = Field(
        default=None, description="Run a knowledge competition: host, leaderboard and player "
        "pages under /competition/ (docs/competition.md).")

    @model_validator(mode="after")
    def _unique_surfaces(self) -> StationProfile:
        ids = [s.id for s in self.surfaces]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"surface id {', '.join(sorted(dup))} is used twice")
        return self


DEFAULT = StationProfile(station=StationId(id="station", name="showfloor station"))


def load_profile(path: str | Path, display: str | None = None
                 ) -> tuple[StationProfile | None, list[Problem]]:
    """Read and validate a station profile; problems carry file:line:column."""
    from showfloor.content.load import Pos, Positions, _translate

    p = Path(path)
    display = display or str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the station profile ({err})") from err
    try:
        doc = parse(text)
    except YamlProblem as err:
        return None, [Problem("error", err.message, display, err.line, err.column, err.hint,
                              err.code)]
    if not isinstance(doc.value, dict):
        return None, [Problem("error", "a station profile must be a mapping (station:, "
                              "exhibit:, surfaces:, …)", display, 1, 1, code="schema")]
    positions = Positions()
    for src, dst in ((doc.keys, positions.keys), (doc.values, positions.values)):
        for k, m in src.items():
            dst[k] = Pos(display, m.line, m.column)
    positions.files[()] = display
    try:
        return StationProfile.model_validate(doc.value), []
    except ValidationError as err:
        return None, _translate(err, StationProfile, doc.value, (), positions)


def lint_profile(path: Path, display: str, exhibit_root: Path | None,
                 languages: list[str] | None) -> list[Problem]:
    """A profile's own problems, and how it fits the exhibit it names."""
    from showfloor.content.load import Pos, Positions

    profile, problems = load_profile(path, display)
    if profile is None:
        return problems
    doc = parse(path.read_text(encoding="utf-8-sig"))
    positions = Positions()
    for k, m in doc.values.items():
        positions.values[k] = Pos(display, m.line, m.column)

    def at(where: tuple[str | int, ...], severity: str, message: str, hint: str | None) -> None:
        pos = positions.at(where)
        problems.append(Problem(severity, message, display,  # type: ignore[arg-type]
                                pos.line if pos else 1, pos.column if pos else 1, hint,
                                "profile"))

    target = exhibit_dir(path, profile)
    if not (target / "exhibit.yaml").is_file():
        at(("exhibit",), "error", f"exhibit '{profile.exhibit}' has no exhibit.yaml "
           f"(looked in {target})", "give the exhibit folder, relative to this file")
    elif exhibit_root is not None and target != exhibit_root.resolve():
        at(("exhibit",), "warning", f"this profile shows another exhibit ({target})", None)
    if languages is not None and profile.language and profile.language not in languages:
        at(("language",), "error", f"language '{profile.language}' is not one of the "
           f"exhibit's languages ({', '.join(languages)})", f"use one of {', '.join(languages)}")
    if profile.start is not None and exhibit_root is not None and \
            (target / "exhibit.yaml").is_file():
        from showfloor.content.load import load as load_exhibit

        ex = load_exhibit(target).exhibit
        if ex is not None and ex.scene(profile.start) is None:
            import difflib

            near = difflib.get_close_matches(profile.start, [s.id for s in ex.scenes], n=1)
            at(("start",), "error", f"start scene '{profile.start}' is not in the exhibit",
               f"did you mean '{near[0]}'?" if near else None)
    if profile.competition is not None and exhibit_root is not None and \
            (target / "exhibit.yaml").is_file():
        from showfloor.content.load import load as load_exhibit

        ex = load_exhibit(target).exhibit
        have = [c.id for c in ex.competitions] if ex is not None else []
        if ex is not None and profile.competition.id not in have:
            at(("competition", "id"), "error", f"competition '{profile.competition.id}' is not "
               "in the exhibit", f"use one of: {', '.join(have)}" if have else
               "add it under 'competitions:' in exhibit.yaml (docs/competition.md)")
    if profile.devices or profile.inputs or profile.outputs:
        problems += _lint_mapping(doc, display, positions, at, target, exhibit_root)
    if all(s.role == "display" for s in profile.surfaces):
        at(("surfaces",), "warning", "every surface is a display: visitors cannot touch "
           "anything", "add a surface with role control or kiosk")
    return problems


def _lint_mapping(doc: Any, display: str, positions: Any, at: Any, target: Path,
                  exhibit_root: Path | None) -> list[Problem]:
    """``devices:``/``inputs:``/``outputs:`` against the drivers and the exhibit
    (showfloor.drivers.lint)."""
    from showfloor.content.load import Pos
    from showfloor.content.load import load as load_exhibit
    from showfloor.drivers.lint import lint_mapping

    for k, m in doc.keys.items():
        positions.keys[k] = Pos(display, m.line, m.column)
    positions.files[()] = display
    exhibit = None
    if exhibit_root is not None and (target / "exhibit.yaml").is_file():
        loaded = load_exhibit(target)
        exhibit = loaded.exhibit or loaded.partial
    return lint_mapping(doc.value, positions, at, exhibit)


def exhibit_dir(profile_path: Path, profile: StationProfile) -> Path:
    """The exhibit folder a profile names, relative to the profile's own folder."""
    return (profile_path.parent / profile.exhibit).resolve()
