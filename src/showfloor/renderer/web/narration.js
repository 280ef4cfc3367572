// Narration and captions.
//
// Narration plays in an <audio> element that carries the WebVTT captions as
// <track kind="captions" default>. Audio elements draw no captions, so the
// active cue is drawn here, in a large caption bar. A scene says where the
// bar goes with an element marked [data-captions-dock] (over the bottom of
// its illustration, like film subtitles); without one it sits at the bottom
// of the stage. Video elements use the same bar (their track is hidden so
// the look is the same everywhere).

import {h} from "./dom.js";

export class Narrator {
  /**
   * @param {object} o
   * @param {HTMLElement} o.home          where the bar goes when a scene has no dock
   * @param {(what: string, path: string, detail: string) => void} o.problem
   */
  constructor({home, problem}) {
    this.home = home;
    this.problem = problem;
    this.enabled = true;   // the captions toggle
    this.media = null;     // the element whose cues are shown
    this.audio = null;     // the one <audio> narration plays in (made once, reused)
    this.srcPath = null;   // what it plays (for problem reports)
    this.gen = 0;          // bumped by every play() and stop()
    this.cleanup = [];
    this.current = "";
    this.text = h("p", {class: "captions__text", lang: ""});
    this.bar = h("div", {class: "captions", "data-state": "off"}, this.text);
  }

  /** The narration element (kept in the caption home; an <audio> draws nothing). */
  element() {
    if (!this.audio) {
      const audio = h("audio", {preload: "auto", class: "narration", "data-narration": ""});
      audio.addEventListener("error", () => {
        if (audio.getAttribute("src")) this.problem("media", this.srcPath, "narration could not be played");
      });
      this.home.append(audio);
      this.audio = audio;
    }
    return this.audio;
  }

  /** Play narration `src` (URL) with captions `vtt` (URL, optional) in `lang`. */
  play({src, vtt, lang, dock, srcPath, vttPath}) {
    this.detach();
    this.gen += 1;
    const audio = this.element();
    for (const t of audio.querySelectorAll("track")) t.remove();
    if (vtt) audio.append(this.track(vtt, lang, vttPath));
    this.srcPath = srcPath || src;
    // a new src drops the old one and loads the new (no pause() or load() of our own)
    if (audio.getAttribute("src") !== src) audio.src = src;
    else audio.currentTime = 0;
    this.follow(audio, {dock, lang});
    const started = audio.play();
    if (started && typeof started.catch === "function") {
      started.catch(() => { /* autoplay refused or aborted: stay quiet; captions still show */ });
    }
    return audio;
  }

  /** Show the captions of a <video>/<audio> the scene made (its track is kept hidden). */
  attach(media, {dock, lang} = {}) {
    this.stop();
    this.follow(media, {dock, lang});
  }

  /** A <track> element for `vtt` (used by scenes for their own video). */
  track(vtt, lang, path) {
    const track = h("track", {kind: "captions", default: true, srclang: lang || "", label: lang || "captions"});
    track.src = vtt;
    track.addEventListener("error", () => {
      this.problem("media", path || vtt, "captions could not be loaded");
    }, {once: true});
    return track;
  }

  follow(media, {dock, lang}) {
    this.media = media;
    this.lang = lang || document.documentElement.lang;
    if (this.text.getAttribute("lang") !== this.lang) this.text.setAttribute("lang", this.lang);
    this.show("");
    const home = dock || this.home;
    if (this.bar.parentNode !== home) home.append(this.bar);
    const hooked = new Set();
    const hookTrack = (track) => {
      if (!track || hooked.has(track) || (track.kind !== "captions" && track.kind !== "subtitles")) return;
      hooked.add(track);
      track.mode = "hidden";  // we draw the cues
      const onCue = () => { if (this.media === media) this.show(cueText(track.activeCues, this.lang)); };
      track.addEventListener("cuechange", onCue);
      this.cleanup.push(() => track.removeEventListener("cuechange", onCue));
    };
    for (const track of media.textTracks) hookTrack(track);
    const onAdd = (e) => hookTrack(e.track);
    media.textTracks.addEventListener("addtrack", onAdd);
    const onEnd = () => this.show("");
    media.addEventListener("ended", onEnd);
    this.cleanup.push(() => {
      media.textTracks.removeEventListener("addtrack", onAdd);
      media.removeEventListener("ended", onEnd);
    });
  }

  show(text) {
    const state = text && this.enabled ? "on" : "off";
    if (text === this.current && this.bar.dataset.state === state) return;
    this.current = text;
    if (this.text.textContent !== text) this.text.textContent = text;
    if (this.bar.dataset.state !== state) this.bar.dataset.state = state;
  }

  setEnabled(on) {
    this.enabled = on;
    this.show(this.current || "");
  }

  /** Stop following cues and take the bar away (cheap: no media calls). */
  detach() {
    for (const fn of this.cleanup.splice(0)) fn();
    this.media = null;
    this.show("");
    this.bar.remove();
  }

  /**
   * Stop narration and take the bar away. The sound stops now; the element
   * lets go of its source a moment later, off the path of the next frame.
   */
  stop() {
    this.detach();
    this.gen += 1;
    const audio = this.audio;
    if (!audio || !audio.getAttribute("src")) return;
    try { audio.pause(); } catch { /* gone already */ }
    const gen = this.gen;
    setTimeout(() => {
      if (gen !== this.gen) return;  // playing something else by now
      try {
        audio.removeAttribute("src");
        for (const t of audio.querySelectorAll("track")) t.remove();
        audio.load();
      } catch { /* gone already */ }
    }, 0);
  }
}

function cueText(cues, lang) {
  if (!cues || !cues.length) return "";
  const sep = /^(zh|ja|ko)/.test(lang || "") ? "" : " ";
  const parts = [];
  for (const cue of cues) {
    const text = typeof cue.getCueAsHTML === "function"
      ? cue.getCueAsHTML().textContent
      : String(cue.text || "").replace(/<[^>]*>/g, "");
    parts.push(text.split(/\s*\n\s*/).join(sep));
  }
  return parts.join(sep).trim();
}
