// The self-learning terminal (`ask`): a visitor types a question on the
// on-screen keyboard (English or pinyin), picks a suggested question, or
// browses by topic; the station finds the reviewed answer, or says honestly
// that it has none. docs/ask.md, "The terminal page".
//
// What the visitor types lives in this scene's keyboard (and its DOM) until
// "Ask" sends it; the station turns it into an entry id before the engine
// sees anything. A new view, a reset or leaving the scene drops it.
//
// States (view.state): asking (keyboard, chips, topics) · topic (one topic's
// questions) · answer (an answer, safety or help text) · refused (related
// questions, ask a member of staff).

import {h, icon} from "../dom.js";
import {Keyboard, PinyinIndex, readVocab, suggest, withCommon} from "../keyboard.js";
import {actions, button, paragraphs} from "../parts.js";

const VOCAB_URL = "/ask/vocab.json";
const boards = new WeakMap();  // ctx → {keyboard, stop: its listeners' AbortController}
let vocab = null;              // Promise of the station's vocabulary (content, never visitor data)

/**
 * The knowledge base's words and phrasings, fetched and indexed once per page load:
 * {index: PinyinIndex, phrasings, first: Map("lang entry" → its first phrasing)}.
 * A failed fetch gives an empty vocabulary (typing still works; candidates do not) and is
 * tried again by the next ask screen.
 */
export function loadVocab() {
  if (!vocab) {
    const job = fetch(VOCAB_URL, {cache: "no-cache", credentials: "same-origin"})
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((raw) => ({raw, ok: true}), () => ({raw: {}, ok: false}))
      .then(({raw, ok}) => {
        if (!ok) vocab = null;
        const {words, phrasings} = readVocab(raw);
        const first = new Map();
        for (const p of phrasings) {
          const key = `${p.lang} ${p.entry}`;
          if (!first.has(key)) first.set(key, p.text);
        }
        return {index: new PinyinIndex(withCommon(words)), phrasings, first, words: words.length};
      });
    vocab = job;
  }
  return vocab;
}

function state(view) {
  return ["asking", "answer", "refused", "topic"].includes(view.state) ? view.state : "asking";
}

export function render(view, ctx) {
  const s = state(view);
  // one column (the words, then the way on) where there is nothing to show beside them
  const solo = s === "topic" || (s !== "asking" && !list(view.related).length);
  const root = h("section", {class: `ask ask--${s}${solo ? " ask--solo" : ""} role-${ctx.role}`,
    "aria-labelledby": "scene-title"});
  if (s === "answer" && view.answer) root.append(...answer(view, ctx));
  else if (s === "refused") root.append(...refused(view, ctx));
  else if (s === "topic" && view.topic) root.append(...topicList(view, ctx));
  else root.append(...asking(view, ctx));
  return root;
}

/**
 * The asking screen in another language: drawn anew, but what the visitor had typed
 * stays (the keyboard switches to the new language's layout). Anything else: anew.
 */
export function update(view, ctx) {
  const had = boards.get(ctx);
  const root = ctx.root;
  if (!had || !root || state(view) !== "asking") return false;
  had.stop.abort();
  boards.delete(ctx);
  const fresh = render(view, ctx);
  boards.get(ctx)?.keyboard.carry(had.keyboard);
  root.replaceChildren(...fresh.childNodes);
  root.className = fresh.className;
  root.classList.add("scene");
  return true;
}

export function dispose(el, ctx) {
  const had = boards.get(ctx);
  if (had) {
    had.stop.abort();
    had.keyboard.clear();
    boards.delete(ctx);
  }
}

// -- asking ---------------------------------------------------------------------

function strings(ctx) {
  const t = ctx.t;
  return {
    field: t("ask_field"), space: t("ask_space"), backspace: t("ask_backspace"), clear: t("ask_clear"),
    more: t("ask_more_words"), candidates: t("ask_candidates"), keyboard: t("ask_keyboard"),
    pinyin: {label: "拼音", name: "拼音输入", lang: "zh-CN"},
    english: {label: "EN", name: "EN — English keyboard", lang: "en"},
  };
}

function asking(view, ctx) {
  const lang = view.lang || "en";
  const head = h("div", {class: "ask__head"},
    h("h1", {id: "scene-title", class: "title ask__title", "data-scene-title": ""}, view.title || ""),
    view.prompt ? h("p", {class: "ask__prompt"}, view.prompt) : null);
  const suggested = list(view.suggested);
  const chipsTitle = h("h2", {class: "ask__label", id: "ask-chips-label"});
  const chipsBox = h("div", {class: "ask__chips", role: "group", "aria-labelledby": "ask-chips-label",
    "data-keys-group": "chips"});
  const chipsWrap = h("div", {class: "ask__chipsbox"}, chipsTitle, chipsBox);
  let drawnKey = null;
  const drawChips = (items, typed) => {
    chipsTitle.textContent = ctx.t(typed ? "ask_like_yours" : "ask_suggested");
    const key = JSON.stringify(items.map((c) => [c.id, c.question]));
    if (key === drawnKey) return;  // the same questions: leave them (and the focus) be
    drawnKey = key;
    const focused = [...chipsBox.children].indexOf(document.activeElement);
    chipsBox.replaceChildren(...items.map((c) => chip(ctx, c, "chip")));
    if (focused >= 0) {
      chipsBox.children[Math.min(focused, chipsBox.children.length - 1)]?.focus({preventScroll: true});
    }
    // arrows and Enter (a button panel) start on the first question: no typing needed
    chipsBox.firstElementChild?.setAttribute("data-autofocus", "");
    chipsWrap.hidden = !items.length;
  };
  const topics = topicsBox(view, ctx);
  const done = button(ctx, {label: ctx.t("ask_done"), kind: "secondary", input: {type: "advance"}});
  if (!ctx.interactive || document.body.dataset.display === "vr") {
    // a projector or a control panel beside a kiosk: the prompt and what one may ask
    // and a headset: no keys to type on in the air, but the questions to pick and topics
    drawChips(suggested, false);
    return [h("div", {class: "ask__main", "data-fit": ""}, head),
      h("div", {class: "ask__side"}, chipsWrap, topics, actions(ctx, done))];
  }
  const send = h("button", {type: "button", class: "btn btn--primary ask__send", "data-action": "",
    "data-sends": "", "data-primary": "", disabled: true, "aria-disabled": "true"},
  h("span", {class: "btn__label", text: ctx.t("ask_send")}), icon("arrow", "icon btn__icon"));
  const kb = new Keyboard({
    strings: strings(ctx),
    mode: /^zh/.test(lang) ? "pinyin" : "qwerty",
    onChange: () => changed(),
    onEnter: () => sendQuestion(),
  });
  const sendQuestion = () => {
    const text = kb.value();
    if (!text) return;
    ctx.send({type: "act", action: "ask", payload: {text, via: "typed"}});
  };
  send.addEventListener("click", sendQuestion);
  let pending = 0;
  const changed = () => {
    // disabled until there is a question (and out of the arrow keys' way: keys.js)
    send.disabled = !kb.value();
    send.setAttribute("aria-disabled", String(send.disabled));
    // the chips follow the typing, a frame later (a fast typist's keys go first)
    if (!pending) pending = requestAnimationFrame(() => { pending = 0; live(); });
  };
  const live = () => {
    if (signal.aborted) return;
    const typed = kb.text + (kb.found.length ? kb.found[0].word : kb.mode === "qwerty" ? kb.letters : "");
    if (!typed.trim()) return drawChips(suggested, false);
    loadVocab().then((v) => {
      if (signal.aborted) return;
      const found = suggest(v.phrasings, typed, 4).map((c) =>
        ({id: c.entry, question: v.first.get(`${lang} ${c.entry}`) || c.text}));
      drawChips(found.length ? found : suggested, found.length > 0);
    });
  };
  const stop = new AbortController();  // this keyboard's listeners: the scene's, or until redrawn
  ctx.signal.addEventListener("abort", () => stop.abort(), {once: true});
  const signal = stop.signal;
  boards.set(ctx, {keyboard: kb, stop});
  loadVocab().then((v) => { if (!signal.aborted) kb.setIndex(v.index); });
  drawChips(suggested, false);
  // a physical keyboard (a desk preview, a station with one) types too; a paste is cut short
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey ||
        document.querySelector("[aria-modal='true']:not([hidden])")) return;
    if (/^[a-zA-Z]$/.test(e.key)) { kb.type(e.key.toLowerCase()); e.preventDefault(); }
    else if (e.key === "Backspace") { kb.backspace(); e.preventDefault(); }
  }, {signal});
  document.addEventListener("paste", (e) => {
    const text = e.clipboardData?.getData("text/plain");
    if (text) { kb.paste(text); e.preventDefault(); }
  }, {signal});
  // the seam for other input sources (speech, later): an event with the text heard; it
  // goes into the field like typing, and the visitor still presses Ask
  document.addEventListener("showfloor:ask-text", (e) => {
    if (typeof e.detail?.text === "string") kb.paste(e.detail.text);
  }, {signal});
  const field = h("div", {class: "ask__fieldrow"}, kb.fieldEl, send);
  return [
    h("div", {class: "ask__main"}, head, field, kb.el),
    h("div", {class: "ask__side"}, chipsWrap, topics,
      actions(ctx, done)),
  ];
}

/** [{id, question}] from a view field (anything else: empty). */
function list(items) {
  return (Array.isArray(items) ? items : []).filter((c) => c && typeof c.id === "string" && c.question);
}

/** A question to pick: `act pick` (no retrieval; the entry is known). */
function chip(ctx, c, via) {
  if (!ctx.interactive) return h("p", {class: "ask-chip ask-chip--static"}, c.question);
  const b = h("button", {type: "button", class: "ask-chip", "data-action": "", "data-sends": ""},
    icon("bulb", "icon ask-chip__icon"), h("span", {class: "ask-chip__text"}, c.question));
  b.addEventListener("click", () => ctx.send({type: "act", action: "pick", payload: {entry: c.id, via}}));
  return b;
}

function topicsBox(view, ctx) {
  const topics = (Array.isArray(view.topics) ? view.topics : []).filter((x) => x && typeof x.id === "string");
  if (!topics.length) return null;
  const items = topics.map((x) => {
    const label = [h("span", {class: "ask-topic__title"}, x.title || x.id),
      Number(x.count) ? h("span", {class: "ask-topic__count", "aria-hidden": "true"}, String(x.count)) : null];
    if (!ctx.interactive) return h("li", {class: "ask-topic ask-topic--static"}, label);
    const b = h("button", {type: "button", class: "ask-topic", "data-action": "", "data-sends": ""}, label);
    b.addEventListener("click", () => ctx.send({type: "act", action: "topic", payload: {topic: x.id}}));
    return b;
  });
  return h("div", {class: "ask__topics"},
    h("h2", {class: "ask__label", id: "ask-topics-label"}, ctx.t("ask_topics")),
    ctx.interactive
      ? h("div", {class: "ask__topiclist", role: "group", "aria-labelledby": "ask-topics-label",
        "data-keys-group": "topics"}, items)
      : h("ul", {class: "ask__topiclist"}, items));
}

// -- one topic --------------------------------------------------------------------

function topicList(view, ctx) {
  const topic = view.topic;
  const entries = list(topic.entries);
  const items = entries.map((c) => chip(ctx, c, "topic"));
  const back = button(ctx, {label: ctx.t("ask_back"), kind: "secondary",
    input: {type: "act", action: "back", payload: {}}});
  return [
    h("div", {class: "ask__main ask__main--topic", "data-fit": ""},
      h("p", {class: "eyebrow"}, view.title || ""),
      h("h1", {id: "scene-title", class: "title", "data-scene-title": ""}, topic.title || ""),
      ctx.interactive
        ? h("div", {class: "ask__chips ask__chips--topic", role: "group", "aria-labelledby": "scene-title",
          "data-keys-group": "scene"}, items)
        : h("div", {class: "ask__chips ask__chips--topic"}, items)),
    h("div", {class: "ask__side ask__side--end"}, actions(ctx, back,
      button(ctx, {label: ctx.t("ask_done"), kind: "secondary", input: {type: "advance"}}))),
  ];
}

// -- an answer ---------------------------------------------------------------------

function answer(view, ctx) {
  const a = view.answer;
  const kind = ["answer", "safety", "help"].includes(a.kind) ? a.kind : "answer";
  // a safety answer does not put its question ("where can I buy …") up in large type
  const safety = kind === "safety";
  const main = h("div", {class: `ask__main ask__answer ask__answer--${kind}`, "data-fit": ""},
    safety ? h("div", {class: "ask__mark", "aria-hidden": "true"}, icon("heart", "icon"))
      : h("p", {class: "eyebrow"}, view.title || ""),
    h("h1", {id: "scene-title", class: "title ask__question", "data-scene-title": ""},
      (safety ? view.title : a.question) || ""),
    paragraphs(a.text, "body body--answer"),
    kind === "help" ? helpBlock(view, ctx) : null,
    moreImage(a.more, ctx));
  const src = a.source && typeof a.source === "object" && a.source.name
    ? h("p", {class: "source"},
      h("span", {class: "source__label", text: `${view.ui?.source || ctx.t("source")}${/^zh|^ja/.test(view.lang) ? "：" : ": "}`}),
      h("span", {class: "source__name", text: a.source.name}))
    : null;
  const moreWord = ctx.t("ask_more");
  const moreLabel = !a.more?.label || a.more.label === moreWord ? moreWord
    : `${moreWord}${/^zh|^ja/.test(view.lang) ? "：" : ": "}${a.more.label}`;
  const more = a.more && typeof a.more === "object" && typeof a.more.scene === "string"
    ? button(ctx, {label: moreLabel, iconName: "arrow", kind: "primary",
      input: {type: "act", action: "more", payload: {}}})
    : null;
  return [
    h("div", {class: "ask__panel"}, main, src),
    side(view, ctx, more, "ask_related"),
  ];
}

/** The hall's help text and hotline (the station profile's `ask` block, in the welcome). */
function helpBlock(view, ctx) {
  const conf = ctx.ask && typeof ctx.ask === "object" ? ctx.ask : {};
  const help = pick(conf.help, view.lang);
  const hotline = typeof conf.hotline === "string" || typeof conf.hotline === "number" ? String(conf.hotline) : "";
  if (!help && !hotline) return null;
  return h("div", {class: "ask__help", role: "note"},
    help ? h("p", {class: "ask__helptext"}, help) : null,
    hotline ? h("p", {class: "ask__hotline"},
      h("span", {class: "ask__hotline-label"}, ctx.t("ask_hotline")),
      h("span", {class: "ask__hotline-number", lang: "en"}, hotline)) : null);
}

function pick(text, lang) {
  if (typeof text === "string") return text;
  if (!text || typeof text !== "object") return "";
  return text[lang] ?? text[String(lang).split("-")[0]] ?? Object.values(text).find((v) => typeof v === "string") ?? "";
}

function moreImage(more, ctx) {
  if (!more || typeof more !== "object" || typeof more.image !== "string") return null;
  return h("div", {class: "frame ask__image"}, ctx.image({src: more.image, alt: more.alt || "", fit: "contain"}));
}

/** The right-hand column: related questions, then the way on. */
function side(view, ctx, first, labelKey) {
  const related = list(view.related);
  const box = related.length ? h("div", {class: "ask__chipsbox"},
    h("h2", {class: "ask__label", id: "ask-related-label"}, ctx.t(labelKey)),
    ctx.interactive
      ? h("div", {class: "ask__chips", role: "group", "aria-labelledby": "ask-related-label",
        "data-keys-group": "chips"}, related.map((c) => chip(ctx, c, "related")))
      : h("div", {class: "ask__chips"}, related.map((c) => chip(ctx, c, "related")))) : null;
  const again = button(ctx, {label: ctx.t("ask_again"), iconName: "restart", kind: first ? "secondary" : "primary",
    input: {type: "act", action: "back", payload: {}}});
  const done = button(ctx, {label: ctx.t("ask_done"), kind: "secondary", input: {type: "advance"}});
  return h("div", {class: "ask__side"}, box, actions(ctx, first, again, done));
}

// -- no answer -------------------------------------------------------------------

function refused(view, ctx) {
  const main = h("div", {class: "ask__main ask__answer ask__answer--refused", "data-fit": ""},
    h("p", {class: "eyebrow"}, view.title || ""),
    h("div", {class: "ask__mark", "aria-hidden": "true"}, icon("info", "icon")),
    h("h1", {id: "scene-title", class: "title ask__question", "data-scene-title": ""}, ctx.t("ask_refused_title")),
    paragraphs(ctx.t(list(view.related).length ? "ask_refused_text" : "ask_refused_staff"), "body body--answer"));
  return [h("div", {class: "ask__panel"}, main), side(view, ctx, null, "ask_refused_related")];
}
