// A quiz: one question at a time (single, multiple or true-false), then
// feedback on the answer, then a summary. The station keeps the score; the
// page only shows it. A visitor's selection lives in the DOM of this scene
// and nowhere else.

import {fmt, h, icon, setText} from "../dom.js";
import {actions, button, letter, relabelImage, sameIds, sameImage, sourceLine} from "../parts.js";

const shown = new WeakMap();   // ctx → the view its scene shows
const timers = new WeakMap();  // ctx → repaint the time-left label

export function render(view, ctx) {
  shown.set(ctx, view);
  const stage = view.stage || "question";
  const root = h("section", {class: `quiz quiz--${stage} role-${ctx.role}`, "aria-labelledby": "scene-title"});
  root.append(head(view, ctx));
  if (stage === "summary") root.append(summary(view, ctx));
  else if (stage === "feedback") root.append(feedback(view, ctx));
  else root.append(question(view, ctx));
  return root;
}

/**
 * The same question, feedback or summary in another language: new words in
 * place, so a half-made selection, the focus and the timer stay as they are.
 * Anything else (another question, another stage) is drawn anew.
 */
export function update(view, ctx) {
  const old = shown.get(ctx);
  const root = ctx.root;
  if (!old || !root) return false;
  const stage = view.stage || "question";
  if ((old.stage || "question") !== stage) return false;
  for (const k of ["count", "index", "score", "time_limit", "percent", "passed", "correct", "max"]) {
    if (old[k] !== view[k]) return false;
  }
  if (JSON.stringify(old.worth || []) !== JSON.stringify(view.worth || [])) return false;
  const q = view.question || {};
  const was = old.question || {};
  if (stage !== "summary" && (q.id !== was.id || q.kind !== was.kind || !sameImage(q.image, was.image) ||
      !sameIds(q.choices, was.choices))) return false;
  if (stage === "feedback" && !sameAnswer(old.answer, view.answer)) return false;
  if (stage !== "summary") relabelImage(root.querySelector(".quiz__art"), q.image);
  const headEl = root.querySelector(".quiz__head");
  if (!headEl) return false;
  if (stage === "question" && !updateQuestion(view, ctx, root)) return false;
  if (stage === "feedback" && !updateFeedback(view, ctx, root)) return false;
  if (stage === "summary" && !updateSummary(view, ctx, root)) return false;
  headEl.replaceWith(head(view, ctx));
  shown.set(ctx, view);
  return true;
}

function sameAnswer(a = {}, b = {}) {
  const ids = (x) => JSON.stringify([x?.choices || [], x?.right || [], Boolean(x?.correct),
    Boolean(x?.timed_out), x?.result || ""]);
  return ids(a) === ids(b);
}

function updateQuestion(view, ctx, root) {
  const q = view.question || {};
  const ask = root.querySelector(".quiz__ask");
  if (!ask) return false;
  const intro = ask.querySelector(".quiz__intro");
  if (Boolean(view.intro) !== Boolean(intro)) return false;
  setText(intro, view.intro);
  setText(ask.querySelector(".quiz__prompt"), q.prompt || "");
  setText(ask.querySelector(".hint"), ctx.t("choose_all"));
  const texts = ask.querySelectorAll(".choice__text");
  (q.choices || []).forEach((c, i) => setText(texts[i], c.text));
  setText(root.querySelector(".quiz__col .actions .btn__label"), view.ui?.check || "Check answer");
  timers.get(ctx)?.();
  return true;
}

function updateFeedback(view, ctx, root) {
  const ask = root.querySelector(".quiz__ask--review");
  const text = root.querySelector(".feedback__text");
  const source = root.querySelector(".feedback > .source");
  if (!ask || !text || Boolean(source) !== Boolean(sourceLine(ctx, view.question?.source))) return false;
  const parts = feedbackParts(view, ctx);
  ask.replaceWith(parts.ask);
  text.replaceWith(parts.text);
  if (source && parts.source) source.replaceWith(parts.source);
  setText(root.querySelector(".feedback .actions .btn__label"), view.ui?.next || "Continue");
  ctx.later?.(() => ctx.announce(parts.said));
  return true;
}

function updateSummary(view, ctx, root) {
  const line = root.querySelector(".summary__line");
  const detail = root.querySelector(".summary__detail");
  if (!line || !detail) return false;
  const words = summaryWords(view, ctx);
  setText(line, words.line);
  detail.replaceWith(summaryDetail(words, view));
  setText(root.querySelector(".summary .actions .btn__label"), view.ui?.next || "Continue");
  return true;
}

function head(view, ctx) {
  const count = Number(view.count) || 0;
  const index = view.stage === "summary" ? count : Number(view.index) || 0;
  const dots = h("ol", {class: "dots", "aria-hidden": "true"});
  for (let i = 1; i <= count; i++) {
    const done = i < index || (i === index && view.stage !== "question");
    dots.append(h("li", {class: `dot${done ? " is-done" : ""}${i === index && view.stage !== "summary" ? " is-now" : ""}`}));
  }
  const progress = view.stage === "summary" ? null
    : h("p", {class: "quiz__count"}, fmt(view.ui?.question || "{n} / {count}", {n: index, count}));
  return h("div", {class: "quiz__head"},
    h("div", {class: "quiz__where"},
      h("p", {class: "eyebrow"}, view.title || ""),
      progress),
    count > 1 ? dots : null,
    h("p", {class: "quiz__score"},
      h("span", {class: "quiz__score-label"}, view.ui?.score || "Score"),
      h("span", {class: "quiz__score-value"}, String(view.score ?? 0))));
}

function prompt(q, className = "quiz__prompt") {
  return h("h1", {id: "scene-title", class: className, "data-scene-title": ""}, q.prompt || "");
}

function questionArt(q, ctx) {
  if (!q.image) return null;
  return h("div", {class: "frame quiz__art"}, ctx.image(q.image));
}

function question(view, ctx) {
  const q = view.question || {};
  const choices = Array.isArray(q.choices) ? q.choices : [];
  const kind = q.kind || "single";
  const multiple = kind === "multiple";
  const ask = h("div", {class: "quiz__ask", "data-fit": ""},
    view.intro ? h("p", {class: "quiz__intro"}, view.intro) : null, prompt(q));
  if (multiple) ask.append(h("p", {class: "hint"}, ctx.t("choose_all")));
  const group = `choices quiz__choices choices--${Math.min(choices.length, 6)} kind-${kind}`;

  let check = null;
  if (!ctx.interactive) {
    ask.append(h("ol", {class: `${group} choices--static`},
      choices.map((c, i) => h("li", {class: "choice choice--static"},
        h("span", {class: "choice__mark", "aria-hidden": "true"}, letter(i)),
        h("span", {class: "choice__text"}, c.text)))));
  } else {
    const picked = new Set();
    const list = h("div", {class: group, role: "group", "aria-labelledby": "scene-title",
      "data-keys-group": "scene"});
    choices.forEach((c, i) => {
      const b = h("button", {type: "button", class: "choice", "data-action": "",
        "data-sends": multiple ? null : "", "aria-pressed": multiple ? "false" : null},
      h("span", {class: "choice__mark", "aria-hidden": "true"},
        multiple ? icon("check", "icon choice__tick") : letter(i)),
      h("span", {class: "choice__text"}, c.text));
      b.addEventListener("click", () => {
        if (multiple) {
          if (picked.has(c.id)) picked.delete(c.id); else picked.add(c.id);
          b.setAttribute("aria-pressed", String(picked.has(c.id)));
          check.disabled = picked.size === 0;
          return;
        }
        if (ctx.send({type: "answer", question: q.id, choices: [c.id]})) {
          // the feedback is the answer; the pick shows only if it is slow to come
          ctx.waiting(() => {
            b.classList.add("is-picked");
            list.classList.add("is-answered");
          });
        }
      });
      list.append(b);
    });
    ask.append(list);
    if (multiple) {
      check = button(ctx, {label: view.ui?.check || "Check answer", iconName: "check",
        onPress: () => {
          if (!picked.size) return;
          const ids = choices.map((c) => c.id).filter((id) => picked.has(id));
          ctx.send({type: "answer", question: q.id, choices: ids});
        }});
      check.dataset.sends = "";
      check.dataset.late = "";
      check.disabled = true;
    }
  }
  // the text may shrink or scroll to fit; the timer and the button always show
  const col = h("div", {class: "quiz__col"}, ask,
    view.time_limit ? timer(view, ctx) : null,
    check ? actions(ctx, check) : null);
  const art = questionArt(q, ctx);
  return h("div", {class: `quiz__main${art ? " has-art" : ""}`}, art, col);
}

/**
 * The time left: counted down from the view's `seconds_left` (what the station's
 * clock says is left), so a page that reconnects or reloads goes on where the
 * countdown was, not from the start.
 */
function timer(view, ctx) {
  const total = Math.max(1, Number(view.time_limit) || 1);
  const given = Number(view.seconds_left);
  const from = Number.isFinite(given) ? Math.min(total, Math.max(0, given)) : total;
  const label = h("span", {class: "timer__text"});
  const bar = h("div", {class: "timer", "data-seconds-left": String(from),
    style: {"--dur": `${total}s`, "--gone": `${(from - total).toFixed(3)}s`}},
  icon("clock", "icon timer__icon"),
  h("span", {class: "timer__track", "aria-hidden": "true"}, h("span", {class: "timer__fill"})),
  label);
  const started = performance.now();
  const left = () => Math.max(0, from - (performance.now() - started) / 1000);
  const paint = () => {
    const now = left();
    setText(label, fmt(ctx.t("time_left"), {seconds: Math.ceil(now - 0.001)}));
    return now;
  };
  const tick = () => {
    const now = paint();
    // the next repaint when the whole second changes
    if (now > 0 && !ctx.signal.aborted) ctx.timer(tick, ((now - 0.001) % 1) * 1000 + 20);
  };
  timers.set(ctx, paint);
  tick();
  return bar;
}

function feedback(view, ctx) {
  const parts = feedbackParts(view, ctx);
  // the source stays in sight: only the words above it shrink or scroll
  const card = h("div", {class: `feedback feedback--${parts.mood}`},
    parts.text,
    parts.source,
    actions(ctx, button(ctx, {label: view.ui?.next || "Continue", iconName: "arrow",
      input: {type: "advance"}})));
  // the scene says its feedback (after its first frame is out)
  if (ctx.later) ctx.later(() => ctx.announce(parts.said));
  else ctx.announce(parts.said);
  return h("div", {class: "quiz__main quiz__main--feedback"}, parts.ask, card);
}

/**
 * How one choice turned out, as a visitor reads it: what they picked or left,
 * and whether that was right. Never by colour alone: each state has its own
 * mark and its own words.
 *   picked-right  picked, and right        "You picked this — right"
 *   picked-wrong  picked, but not right    "You picked this — not right"
 *   missed        a right one left out     "You missed this one" (multiple choice)
 *   right-answer  the right one, not picked "Right answer" (one answer, or time ran out)
 *   neutral       not picked, not right    (no words; "Not picked" for screen readers)
 */
export function choiceState(kind, picked, right, timedOut) {
  if (picked) return right ? "picked-right" : "picked-wrong";
  if (!right) return "neutral";
  return kind === "multiple" && !timedOut ? "missed" : "right-answer";
}

const STATE_WORDS = {"picked-right": "picked_right", "picked-wrong": "picked_wrong",
  "missed": "missed", "right-answer": "right_answer", "neutral": "not_picked"};

function stateMark(state, kind, i) {
  if (state === "picked-right" || state === "missed" || state === "right-answer") return icon("check", "icon");
  if (state === "picked-wrong") return icon("cross", "icon");
  // neutral: as the question showed it (an empty box, a letter, nothing for true/false)
  return kind === "single" ? letter(i) : null;
}

/** The verdict: correct, partly (some right ones of a multiple choice), incorrect, timed_out. */
function verdict(q, a) {
  if (a.result) return a.result;
  if (a.timed_out) return "timed_out";
  if (a.correct) return "correct";
  const right = new Set(a.right || []);
  return q.kind === "multiple" && (a.choices || []).some((id) => right.has(id)) ? "partly" : "incorrect";
}

const MOODS = {
  correct: {mood: "correct", iconName: "check", key: "correct", fallback: "Correct"},
  partly: {mood: "partly", iconName: "check", key: "partly", fallback: "Partly right"},
  incorrect: {mood: "incorrect", iconName: "bulb", key: "incorrect", fallback: "Not quite"},
  timed_out: {mood: "timeout", iconName: "clock", key: "timed_out", fallback: "Time's up"},
};

/** The feedback's words: the question under review, and the verdict with its reasons. */
function feedbackParts(view, ctx) {
  const q = view.question || {};
  const a = view.answer || {};
  const kind = q.kind || "single";
  const right = new Set(a.right || []);
  const mine = new Set(a.choices || []);
  const choices = Array.isArray(q.choices) ? q.choices : [];
  const review = h("ul", {class: `choices choices--static choices--review kind-${kind}`},
    choices.map((c, i) => {
      const state = choiceState(kind, mine.has(c.id), right.has(c.id), Boolean(a.timed_out));
      const words = ctx.t(STATE_WORDS[state]);
      return h("li", {class: `choice choice--static is-${state}${mine.has(c.id) ? " is-mine" : ""}`,
        "data-state": state},
      h("span", {class: "choice__mark", "aria-hidden": "true"}, stateMark(state, kind, i)),
      h("span", {class: "choice__text"}, c.text,
        // the neutral state has no visible words; a screen reader hears it too
        state === "neutral" ? h("span", {class: "sr-only"}, ` — ${words}`) : null),
      state === "neutral" ? null : h("span", {class: "choice__tag"},
        h("span", {class: "sr-only"}, " — "), words));
    }));
  const ask = h("div", {class: "quiz__ask quiz__ask--review", "data-fit": ""},
    prompt(q, "quiz__prompt quiz__prompt--small"), review);

  const how = MOODS[verdict(q, a)] || MOODS.incorrect;
  const said0 = ctx.t(how.key);
  const badge = said0 && said0 !== how.key ? said0 : how.fallback;
  const said = (a.feedback || []).filter(Boolean);
  const text = h("div", {class: "feedback__text", "data-fit": ""},
    h("h2", {class: "feedback__badge"},
      h("span", {class: "feedback__icon", "aria-hidden": "true"}, icon(how.iconName, "icon")),
      h("span", {}, badge)),
    said.map((t) => h("p", {class: "feedback__said"}, t)),
    a.explanation ? h("p", {class: "feedback__why"}, a.explanation) : null);
  return {ask, text, source: sourceLine(ctx, q.source), mood: how.mood,
    said: [badge, ...said].filter(Boolean).join(" ")};
}

function summary(view, ctx) {
  const percent = Math.max(0, Math.min(100, Math.round(Number(view.percent) || 0)));
  const r = 44;
  const c = 2 * Math.PI * r;
  const ring = h("div", {class: `ring${view.passed ? " is-passed" : ""}`, "aria-hidden": "true",
    style: {"--dash": `${(c * percent) / 100} ${c}`, "--circ": `${c}`}},
  svgRing(r),
  h("span", {class: "ring__value"}, String(percent), h("small", {}, "%")));
  const words = summaryWords(view, ctx);
  const card = h("div", {class: "summary", "data-fit": ""},
    ring,
    h("div", {class: "summary__words"},
      h("h1", {id: "scene-title", class: "summary__line", "data-scene-title": ""}, words.line),
      summaryDetail(words, view),
      actions(ctx, button(ctx, {label: view.ui?.next || "Continue", iconName: "arrow",
        input: {type: "advance"}}))));
  return card;
}

/**
 * One measure the visitor can add up. When every question is worth a point,
 * points and questions are the same: "You got 4 of 8 right". When some are
 * worth more, the points lead and the line below says why they differ:
 * "You scored 4 of 9 points" · "4 of 8 questions right · 1 question is worth 2 points".
 */
function summaryWords(view, ctx) {
  const n = (x) => Number(x) || 0;
  const worth = Array.isArray(view.worth) ? view.worth : [];
  const weighted = worth.length > 0 || n(view.max) !== n(view.count);
  if (!weighted) {
    return {line: fmt(ctx.t("summary"), {correct: n(view.correct), count: n(view.count)}), detail: []};
  }
  const detail = [fmt(ctx.t("summary_questions"), {correct: n(view.correct), count: n(view.count)})];
  for (const w of worth) {
    detail.push(fmt(ctx.t(n(w.count) === 1 ? "worth_one" : "worth_many"),
      {n: n(w.count), points: n(w.points)}));
  }
  return {line: fmt(ctx.t("summary_points"), {score: n(view.score), max: n(view.max)}), detail};
}

function summaryDetail(words, view) {
  const percent = Math.max(0, Math.min(100, Math.round(Number(view.percent) || 0)));
  return h("p", {class: "summary__detail"},
    words.detail.map((d, i) => [i ? h("span", {class: "summary__sep", "aria-hidden": "true"}, " · ") : null,
      h("span", {}, d)]),
    // the ring is a picture; its number is said here
    h("span", {class: "sr-only"}, ` (${percent}%)`));
}

function svgRing(r) {
  const svg = h("svg:svg", {class: "ring__svg", viewBox: "0 0 100 100", focusable: "false"});
  svg.append(h("svg:circle", {class: "ring__track", cx: 50, cy: 50, r}),
    h("svg:circle", {class: "ring__fill", cx: 50, cy: 50, r}));
  return svg;
}
