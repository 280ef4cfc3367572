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
    this.owned = null;     // the <audio> we made (narration), stopped and dropped on stop()
    this.cleanup = [];
    this.text = h("p", {class: "captions__text", lang: ""});
    this.bar = h("div", {class: "captions", "data-state": "off"}, this.text);
  }

  /** Play narration `src` (URL) with captions `vtt` (URL, optional) in `lang`. */
  play({src, vtt, lang, dock, srcPath, vttPath}) {
    this.stop();
    const audio = h("audio", {preload: "auto", class: "narration", "data-narration": ""});
    audio.src = src;
    this.owned = audio;
    if (vtt) audio.append(this.track(vtt, lang, vttPath));
    audio.addEventListener("error", () => {
      this.problem("media", srcPath || src, "narration could not be played");
    }, {once: true});
    (dock || this.home).append(audio);
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
    this.text.setAttribute("lang", this.lang);
    this.show("");
    (dock || this.home).append(this.bar);
    const hookTrack = (track) => {
      if (!track || (track.kind !== "captions" && track.kind !== "subtitles")) return;
      track.mode = "hidden";  // we draw the cues
      const onCue = () => this.show(cueText(track.activeCues, this.lang));
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
    this.current = text;
    this.text.textContent = text;
    this.bar.dataset.state = text && this.enabled ? "on" : "off";
  }

  setEnabled(on) {
    this.enabled = on;
    this.show(this.current || "");
  }

  /** Stop narration and take the bar away. */
  stop() {
    for (const fn of this.cleanup.splice(0)) fn();
    if (this.owned) {
      const audio = this.owned;
      this.owned = null;
      try {
        audio.pause();
        audio.removeAttribute("src");
        for (const t of audio.querySelectorAll("track")) t.remove();
        audio.load();
      } catch { /* already gone */ }
      audio.remove();
    }
    this.media = null;
    this.show("");
    this.bar.remove();
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
