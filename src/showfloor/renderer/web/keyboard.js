// The on-screen keyboard of the ask terminal: English QWERTY, and pinyin
// entry whose candidates come from the knowledge base's own words
// (/ask/vocab.json, made by the station with pypinyin: full pinyin and
// initials, so `dupin` and `dp` both give 毒品). A kiosk has no system input
// method; this is it.
//
// What a visitor types lives in this object (and the DOM it draws) and
// nowhere else until it is sent; the scene drops the object with its DOM on
// a reset. Nothing here is stored, logged or sent by itself.
//
// Speed: the vocabulary is indexed once when it loads (two sorted arrays of
// keys, binary-searched by prefix), so the candidates for a keystroke cost a
// search and a few comparisons (docs/ask.md, "The terminal page").

import {h} from "./dom.js";

/** Longest question the page lets a visitor build (a paste is cut there). */
export const MAX_CHARS = 200;
const PAGE = 8;  // candidates shown at once
const LETTERS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];

// -- the vocabulary -----------------------------------------------------------

/** "dù pǐn" / "du pin" / "Du-Pin" → "dupin" (ü is typed as v, as on every pinyin keyboard). */
export function pinyinKey(text) {
  return String(text ?? "").normalize("NFD").replace(/u\u0308/g, "v").replace(/[\u0300-\u036f]/g, "")
    .toLowerCase().replace(/ü/g, "v").replace(/[^a-z]/g, "");
}

/** Text for matching: NFKC, lower case, punctuation and symbols as spaces. */
export function normal(text) {
  return String(text ?? "").normalize("NFKC").toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

/**
 * The station's vocabulary in one shape, whatever reasonable shape it came in:
 *   words:     [{w, py, ini}] (the station's; also {word, pinyin, initials, weight} or
 *              [word, pinyin, initials, weight])
 *   phrasings: {lang: [{id, q}]} (or {lang: [{entry, text}]}, or [{entry, lang, text}])
 * Bad items are skipped, never thrown on.
 */
export function readVocab(raw) {
  const words = [];
  for (const w of Array.isArray(raw?.words) ? raw.words : []) {
    const item = Array.isArray(w) ? {word: w[0], pinyin: w[1], initials: w[2], weight: w[3]}
      : w && typeof w === "object" ? {word: w.word ?? w.text ?? w.w, pinyin: w.pinyin ?? w.py ?? w.full,
        initials: w.initials ?? w.ini ?? w.abbr, weight: w.weight ?? w.count ?? w.freq} : null;
    if (!item || typeof item.word !== "string" || !item.word) continue;
    const full = pinyinKey(Array.isArray(item.pinyin) ? item.pinyin.join("") : item.pinyin);
    if (!full) continue;
    const initials = pinyinKey(Array.isArray(item.initials) ? item.initials.join("") : item.initials);
    words.push({word: item.word, full, initials, weight: Number(item.weight) || 0});
  }
  const phrasings = [];
  const add = (p, lang) => {
    if (!p || typeof p !== "object") return;
    const entry = p.entry ?? p.id;
    const text = p.text ?? p.q;
    if (typeof text !== "string" || typeof entry !== "string" || !text) return;
    phrasings.push({entry, lang: String(p.lang ?? lang ?? ""), text, norm: normal(text)});
  };
  const ph = raw?.phrasings;
  if (Array.isArray(ph)) for (const p of ph) add(p);
  else if (ph && typeof ph === "object") {
    for (const [lang, list] of Object.entries(ph)) {
      for (const p of Array.isArray(list) ? list : []) add(p, lang);
    }
  }
  return {words, phrasings};
}

// The little words of a question (是, 吗, 什么, 怎么办 …): the station's vocabulary holds
// the knowledge base's meaningful words and may leave these out, but a visitor types
// them in almost every question. They come after the knowledge base's own words.
const COMMON = ("是 shi|吗 ma|呢 ne|吧 ba|啊 a|的 de|了 le|我 wo|你 ni|他 ta|她 ta|我们 wo-men|" +
  "什么 shen-me|为什么 wei-shen-me|怎么 zen-me|怎么办 zen-me-ban|怎样 zen-yang|哪里 na-li|" +
  "哪些 na-xie|谁 shui|多少 duo-shao|几 ji|会 hui|能 neng|可以 ke-yi|要 yao|想 xiang|" +
  "应该 ying-gai|知道 zhi-dao|有 you|没有 mei-you|不 bu|不要 bu-yao|在 zai|和 he|也 ye|都 dou|" +
  "还 hai|就 jiu|很 hen|太 tai|一 yi|个 ge|这 zhe|那 na|如果 ru-guo|因为 yin-wei|所以 suo-yi|" +
  "好 hao|对 dui|去 qu|来 lai|说 shuo|做 zuo|用 yong|吃 chi|喝 he|抽 chou|吸 xi|人 ren|" +
  "朋友 peng-you|同学 tong-xue|老师 lao-shi|爸爸 ba-ba|妈妈 ma-ma|家长 jia-zhang|身体 shen-ti|" +
  "大脑 da-nao|上瘾 shang-yin|危险 wei-xian|安全 an-quan|帮助 bang-zhu|害怕 hai-pa|担心 dan-xin|" +
  "毒品 du-pin|烟 yan|酒 jiu|药 yao")
  .split("|").map((pair) => {
    const [word, syllables] = pair.split(" ");
    const parts = syllables.split("-");
    return {word, full: parts.join(""), initials: parts.map((p) => p[0]).join(""), weight: -1};
  });

/** The station's words and the little words (those the station has already, once). */
export function withCommon(words) {
  const have = new Set(words.map((w) => w.word));
  return words.concat(COMMON.filter((w) => !have.has(w.word)));
}

/** Pinyin → words: prefix search over full pinyin and over initials. */
export class PinyinIndex {
  constructor(words) {
    this.words = words;
    const byKey = (key) => words.map((w, i) => [w[key], i]).filter(([k]) => k)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const full = byKey("full");
    const ini = byKey("initials");
    this.fullKeys = full.map(([k]) => k);
    this.fullIds = Int32Array.from(full.map(([, i]) => i));
    this.iniKeys = ini.map(([k]) => k);
    this.iniIds = Int32Array.from(ini.map(([, i]) => i));
  }

  /**
   * The candidates for a pinyin string: [{word, used}] best first, where `used`
   * is how many letters of `letters` the word stands for. When nothing matches
   * the whole string, the longest start of it that matches gives them (so
   * `dupinshi` offers 毒品 for its first five letters, and `shi` stays).
   */
  candidates(letters, limit = 40) {
    const s = pinyinKey(letters);
    for (let n = s.length; n > 0; n--) {
      const found = this.match(s.slice(0, n), limit);
      if (found.length) return found.map((w) => ({word: w.word, used: n}));
    }
    return [];
  }

  match(prefix, limit) {
    const scored = new Map();  // word index → score
    const take = (keys, ids, initials) => {
      let i = lowerBound(keys, prefix);
      for (; i < keys.length && keys[i].startsWith(prefix); i++) {
        const w = this.words[ids[i]];
        const exact = keys[i].length === prefix.length;
        // an exact full spelling first, then exact initials, then longer words by weight
        const score = (exact ? (initials ? 2e6 : 4e6) : 0) + w.weight * 10 -
          (initials ? 1000 : 0) - keys[i].length;
        const was = scored.get(ids[i]);
        if (was === undefined || score > was) scored.set(ids[i], score);
        if (scored.size > limit * 8) break;  // plenty: a one-letter prefix of a big vocabulary
      }
    };
    take(this.fullKeys, this.fullIds, false);
    if (prefix.length >= 2 || !scored.size) take(this.iniKeys, this.iniIds, true);
    return [...scored.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([i]) => this.words[i]);
  }
}

function lowerBound(keys, x) {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// -- live suggestions -----------------------------------------------------------

const HAN = /\p{Script=Han}/u;
const QUIET_WORDS = new Set(["a", "an", "the", "is", "are", "i", "do", "does", "to", "of", "my",
  "it", "what", "can", "in", "and", "if", "you", "me", "how", "why"]);
const QUIET_HAN = new Set([..."的了吗呢是我你他她它什么怎吧啊在有会要"]);

/**
 * The entries whose phrasings look most like `text` (a question being typed):
 * [{entry, text (the matching phrasing)}], best first, one per entry, `limit` at most.
 * Words count (the last one as a prefix: it is still being typed); Chinese counts by
 * character pairs and characters.
 */
export function suggest(phrasings, text, limit = 4) {
  const q = normal(text);
  if (!q) return [];
  const tokens = q.split(" ").filter((t) => !HAN.test(t));
  const han = [...q.replace(/[^\p{Script=Han}]/gu, "")];
  const pairs = han.slice(1).map((c, i) => han[i] + c);
  const best = new Map();  // entry → {score, text}
  for (const p of phrasings) {
    let score = 0;
    if (tokens.length) {
      const words = p.norm.split(" ");
      tokens.forEach((t, i) => {
        const weight = QUIET_WORDS.has(t) ? 0.2 : 1;
        if (words.includes(t)) score += 2 * weight;
        else if ((i === tokens.length - 1 || t.length >= 4) && t.length >= 2 &&
                 words.some((w) => w.startsWith(t))) score += 1.2 * weight;
      });
    }
    for (const c of han) if (p.norm.includes(c)) score += QUIET_HAN.has(c) ? 0.1 : 1;
    for (const pair of pairs) if (p.norm.includes(pair)) score += 2;
    if (score < 1) continue;
    const was = best.get(p.entry);
    if (!was || score > was.score) best.set(p.entry, {score, text: p.text});
  }
  return [...best.entries()].sort((a, b) => b[1].score - a[1].score).slice(0, limit)
    .map(([entry, v]) => ({entry, text: v.text}));
}

// -- the keyboard -----------------------------------------------------------------

/**
 * One keyboard, for one ask screen.
 *   strings: {field, space, backspace, clear, more, candidates, keyboard,
 *             pinyin: {label, name, lang}, english: {label, name, lang}}
 *   mode: "pinyin" | "qwerty"; index: a PinyinIndex (or null while the vocabulary loads)
 *   onChange(): the text or the pinyin changed; onEnter(): the visitor pressed Enter
 */
export class Keyboard {
  constructor({strings, mode = "qwerty", index = null, onChange = () => {}, onEnter = () => {}}) {
    this.strings = strings;
    this.mode = mode;
    this.index = index;
    this.onChange = onChange;
    this.onEnter = onEnter;
    this.text = "";      // committed text (what will be sent)
    this.letters = "";   // pinyin typed and not yet turned into a word
    this.page = 0;       // page of candidates shown
    this.found = [];     // candidates for `letters`
    this.lastKey = null; // the key pressed last (focus goes back to it)
    this.timings = [];   // ms per candidate search (the page's own measure; tests read it)
    // the question as typed so far: not an <input> (a touch screen would open its own
    // keyboard), a read-only textbox the screen draws beside its prompt
    this.field = h("span", {class: "ask-field__text"});
    this.pinyinEl = h("span", {class: "ask-field__pinyin", lang: "en"});
    this.fieldEl = h("div", {class: "ask-field", role: "textbox", "aria-readonly": "true",
      "aria-label": strings.field}, this.field, this.pinyinEl);
    this.el = this.draw();
    this.refresh();
  }

  /** The text to send: the committed text and any pinyin not yet turned into a word. */
  value() {
    return (this.text + this.letters).trim();
  }

  setIndex(index) {
    this.index = index;
    this.search();
    this.refresh();
  }

  setMode(mode) {
    if (mode === this.mode) return;
    if (this.letters) this.commitLetters();
    this.mode = mode;
    this.el.dataset.mode = mode;
    this.drawLetters();
    this.refresh();
    this.onChange();
  }

  /** Take over what another keyboard (the same screen in another language) held. */
  carry(other) {
    if (!other) return;
    this.text = other.text;
    this.letters = other.letters;
    if (this.mode !== "pinyin" && this.letters) this.commitLetters();
    this.search();
    this.refresh();
    this.onChange();
  }

  /** Forget everything typed (the Clear key, a reset, Ask another question). */
  clear() {
    this.text = "";
    this.letters = "";
    this.found = [];
    this.page = 0;
    this.refresh();
    this.onChange();
  }

  /** A character key: into the pinyin (pinyin mode, a letter) or the text. */
  type(ch) {
    if (this.mode === "pinyin" && /^[a-z]$/.test(ch)) {
      if ((this.text + this.letters).length >= MAX_CHARS) return;
      this.letters += ch;
      this.search();
    } else {
      if (this.letters) this.commitLetters();
      this.insert(ch);
    }
    this.refresh();
    this.onChange();
  }

  /** Text from elsewhere (a paste, a speech source later): cut to MAX_CHARS. */
  insert(text) {
    const room = MAX_CHARS - [...this.text].length;
    if (room <= 0) return;
    this.text += [...String(text).replace(/[\u0000-\u001f\u007f]+/g, " ")].slice(0, room).join("");
  }

  paste(text) {
    if (this.letters) this.commitLetters();
    this.insert(text);
    this.refresh();
    this.onChange();
  }

  space() {
    if (this.mode === "pinyin" && this.letters) {
      // as on every pinyin keyboard: space takes the first candidate
      if (this.found.length) this.pick(this.found[0]);
      else this.commitLetters();
      return;
    }
    if (this.text && !this.text.endsWith(" ")) this.insert(" ");
    this.refresh();
    this.onChange();
  }

  backspace() {
    if (this.letters) {
      this.letters = this.letters.slice(0, -1);
      this.search();
    } else {
      this.text = [...this.text].slice(0, -1).join("");
    }
    this.refresh();
    this.onChange();
  }

  enter() {
    if (this.letters) {
      this.commitLetters();
      this.refresh();
      this.onChange();
      return;
    }
    this.onEnter();
  }

  /** A candidate: its word goes into the text, the letters it stood for leave the pinyin. */
  pick(c) {
    this.insert(c.word);
    this.letters = this.letters.slice(c.used);
    this.search();
    this.refresh();
    this.onChange();
  }

  commitLetters() {
    const letters = this.letters;
    this.letters = "";
    this.found = [];
    this.insert(letters);
  }

  search() {
    this.page = 0;
    if (!this.letters || !this.index) {
      this.found = [];
      return;
    }
    const t0 = performance.now();
    this.found = this.index.candidates(this.letters);
    this.timings.push(performance.now() - t0);
    if (this.timings.length > 500) this.timings.splice(0, 250);
  }

  // -- drawing

  draw() {
    const s = this.strings;
    const key = (label, fn, {cls = "", name = null, wide = false, lang = null} = {}) => {
      const b = h("button", {type: "button", class: `ask-key ${wide ? "ask-key--wide" : ""} ${cls}`.trim(),
        "data-action": "", "aria-label": name, lang});
      b.append(label);
      b.addEventListener("click", () => { this.lastKey = b; fn(); });
      return b;
    };
    this.candBox = h("div", {class: "ask-cands", role: "group", "aria-label": s.candidates,
      "data-keys-group": "candidates"});
    this.rows = h("div", {class: "ask-keys__rows"});
    this.switchKey = key("", () => this.setMode(this.mode === "pinyin" ? "qwerty" : "pinyin"),
      {cls: "ask-key--switch", wide: true});
    const bottom = h("div", {class: "ask-keys__row ask-keys__row--bottom"},
      this.switchKey,
      key(s.space, () => this.space(), {cls: "ask-key--space", wide: true}),
      key("⌫", () => this.backspace(), {cls: "ask-key--back", name: s.backspace, wide: true}),
      key(s.clear, () => this.clear(), {cls: "ask-key--clear", wide: true}));
    const el = h("div", {class: "ask-keyboard", "data-mode": this.mode},
      this.candBox,
      h("div", {class: "ask-keys", role: "group", "aria-label": s.keyboard, "data-keys-group": "keyboard"},
        this.rows, bottom));
    this.keyFn = key;
    this.el = el;
    this.drawLetters();
    return el;
  }

  drawLetters() {
    const key = this.keyFn;
    const extra = this.mode === "pinyin" ? ["，", "？"] : ["'", "?"];
    this.rows.replaceChildren(...LETTERS.map((row, i) => h("div", {class: "ask-keys__row"},
      [...row].map((c) => key(c, () => this.type(c), {lang: "en"})),
      i === 2 ? extra.map((c) => key(c, () => this.type(c))) : null)));
    const other = this.mode === "pinyin" ? this.strings.english : this.strings.pinyin;
    this.switchKey.replaceChildren(other.label);
    this.switchKey.setAttribute("aria-label", other.name);
    this.switchKey.setAttribute("lang", other.lang);
  }

  /** Redraw the field and the candidates (a keystroke: a few nodes). */
  refresh() {
    if (!this.field) return;
    const hadFocus = this.candBox.contains(document.activeElement);
    this.field.textContent = this.text;
    this.pinyinEl.textContent = this.letters;
    const list = this.found.slice(this.page * PAGE, this.page * PAGE + PAGE);
    const more = this.found.length > (this.page + 1) * PAGE;
    const buttons = list.map((c, i) => {
      const b = h("button", {type: "button", class: "ask-cand", "data-action": "", lang: "zh-CN",
        "data-primary": i === 0 ? "" : null}, c.word);
      b.addEventListener("click", () => this.pick(c));
      return b;
    });
    if (more || this.page > 0) {
      const next = h("button", {type: "button", class: "ask-cand ask-cand--more", "data-action": "",
        "aria-label": this.strings.more}, "›");
      next.addEventListener("click", () => {
        this.page = more ? this.page + 1 : 0;
        this.refresh();
        this.candBox.querySelector(".ask-cand--more")?.focus({preventScroll: true});
      });
      buttons.push(next);
    }
    this.candBox.replaceChildren(...buttons);
    this.candBox.hidden = this.mode !== "pinyin";
    this.candBox.classList.toggle("is-empty", !buttons.length);
    if (hadFocus && !this.candBox.contains(document.activeElement)) {
      // the candidate in focus went with its word: the next one, else the key pressed before
      const to = buttons[0] || (this.lastKey?.isConnected ? this.lastKey : null);
      to?.focus({preventScroll: true});
    }
  }
}
