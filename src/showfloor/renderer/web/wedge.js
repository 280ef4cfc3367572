// Keyboard-wedge devices (the `keyboard` driver, docs/drivers.md): USB buttons,
// buzzers and RFID/QR readers that "type". The station's `welcome` carries
// `keyboard: {devices: {NAME: {sequence_ms, min_length}}, inputs: [{device,
// kind, match, do}]}`; a key (or a reader's code ended by Enter) that a
// mapping matches becomes an engine input, sent like a touch.
//
// A mapping matches one key when `kind` is "key", or when it has no kind and
// `match` is one character or a key name (F13, PageDown, …); otherwise it
// matches a code: keys typed at most `sequence_ms` apart, at least
// `min_length` of them, then Enter. Slower typing (a person on a keyboard) is
// not a code, and is left alone. A mapped key typed within `sequence_ms` of the
// key before it is part of a code, not a press (so a reader's digits do not
// press a button mapped to a digit); a code should not start with a button's key
// (give buttons keys readers never type: F13-F24).

const KEY_NAME = /^(F\d{1,2}|Arrow(Up|Down|Left|Right)|Page(Up|Down)|Home|End|Insert|Delete|Escape|Tab|Backspace|Enter|Media\w+|Audio\w+)$/;

function isKeyMapping(m) {
  if (m.kind === "key") return true;
  if (m.kind === "code") return false;
  return m.match.length === 1 || KEY_NAME.test(m.match);
}

export class Wedge {
  /**
   * @param {object} o
   * @param {(input: object) => boolean} o.send   send an engine input (false: it could not go)
   * @param {() => object|null} o.view            the view drawn now
   */
  constructor({send, view}) {
    this.send = send;
    this.view = view;
    this.keyMaps = new Map();   // key → its mappings, in the profile's order
    this.codeMaps = new Map();  // code → its mappings
    this.devices = {};
    this.buffer = "";
    this.last = 0;      // when the last key of the buffer came (performance.now())
    this.mapped = 0;    // inputs sent (tests)
    // on the window, capturing: before the page's own key handling (keys.js, app.js)
    window.addEventListener("keydown", (e) => this.onKey(e), true);
  }

  /** Take the `keyboard` field of a welcome (absent: no keyboard devices). */
  configure(conf) {
    this.keyMaps.clear();
    this.codeMaps.clear();
    this.devices = conf && typeof conf.devices === "object" && conf.devices ? conf.devices : {};
    for (const m of Array.isArray(conf?.inputs) ? conf.inputs : []) {
      if (!m || typeof m.match !== "string" || !m.match || !(m.device in this.devices)) continue;
      const maps = isKeyMapping(m) ? this.keyMaps : this.codeMaps;
      // several mappings of one key: tried in order (one button, a choice in each scene)
      if (!maps.has(m.match)) maps.set(m.match, []);
      maps.get(m.match).push(m);
    }
    this.buffer = "";
  }

  /** The tightest reader timing among the devices (codes from any of them are one stream). */
  timing() {
    let gap = 0;
    let min = Infinity;
    for (const d of Object.values(this.devices)) {
      gap = Math.max(gap, Number(d.sequence_ms) || 50);
      min = Math.min(min, Number(d.min_length) || 4);
    }
    return {gap: gap || 50, min: Number.isFinite(min) ? min : 4};
  }

  onKey(e) {
    if (!this.keyMaps.size && !this.codeMaps.size) return;
    if (e.altKey || e.ctrlKey || e.metaKey || e.repeat) return;
    const now = performance.now();
    const {gap, min} = this.timing();
    if (this.codeMaps.size && e.key === "Enter" && this.buffer) {
      const code = this.buffer;
      const fast = now - this.last <= gap && code.length >= min;
      this.buffer = "";
      const m = fast ? this.codeMaps.get(code) : null;
      if (fast) {
        // a reader's code: never the Enter of whatever button has focus
        e.preventDefault();
        e.stopImmediatePropagation();
        if (m) this.fire(m);
        return;
      }
    }
    // a mapped key fires at once, unless a reader is typing a code (the key before it
    // came within sequence_ms): then it is part of the code
    const burst = this.codeMaps.size > 0 && this.buffer !== "" && now - this.last <= gap;
    const keyMap = burst ? null : this.keyMaps.get(e.key);
    if (keyMap) {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.buffer = "";
      this.fire(keyMap);
      return;
    }
    if (this.codeMaps.size && e.key.length === 1) {
      if (now - this.last > gap) this.buffer = "";  // a pause: a code starts over
      this.buffer = (this.buffer + e.key).slice(-200);
      this.last = now;
    }
  }

  /** The engine input of a mapping's `do`, for the view drawn now (null: none fits). */
  input(m) {
    const view = this.view() || {};
    const d = m.do;
    if (d === "advance") return {type: "advance"};
    if (d === "wake") return view.phase === "attract" ? {type: "start"} : view.overlay ? {type: "still_here"} : null;
    if (d && typeof d === "object") {
      if (typeof d.choose === "string") return {type: "choose", choice: d.choose};
      if (typeof d.answer === "string") {
        const q = view.question?.id;
        return q ? {type: "answer", question: q, choices: [d.answer]} : null;
      }
      if (typeof d.act === "string") return {type: "act", action: d.act, payload: d.payload || {}};
    }
    return null;
  }

  /** The first of a key's mappings that fits the view drawn now: a `choose` whose choice
   *  the scene does not offer is passed over, as the station does for its devices. */
  fire(list) {
    const offered = this.view()?.choices;
    for (const m of list) {
      const choice = m.do && typeof m.do === "object" ? m.do.choose : undefined;
      if (typeof choice === "string" &&
          !(Array.isArray(offered) && offered.some((c) => c && c.id === choice))) continue;
      const inp = this.input(m);
      if (inp && this.send(inp)) this.mapped += 1;
      return;
    }
  }
}
