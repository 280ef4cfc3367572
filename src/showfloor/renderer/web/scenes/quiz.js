// A quiz: one question at a time (single, multiple or true-false), then
// feedback on the answer, then a summary. The station keeps the score; the
// page only shows it. A visitor's selection lives in the DOM of this scene
// and nowhere else.

import {fmt, h, icon, setText} from "../dom.js";
import {actions, button, letter, sameIds, sourceLine} from "../parts.js";

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
  const q = view.question || {};
  const was = old.question || {};
  if (stage !== "summary" && (q.id !== was.id || q.kind !== was.kind || q.image !== was.image ||
      !sameIds(q.choices, was.choices))) return false;
  if (stage === "feedback" && !sameAnswer(old.answer, view.answer)) return false;
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
    Boolean(x?.timed_out)]);
  return ids(a) === ids(b);
}

function updateQuestion(view, ctx, root) {
  const q = view.question || {};
  const ask = root.querySelector(".quiz__ask");
  if (!ask) return false;
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
  if (!ask || !text) return false;
  const parts = feedbackParts(view, ctx);
  ask.replaceWith(parts.ask);
  text.replaceWith(parts.text);
  setText(root.querySelector(".feedback .actions .btn__label"), view.ui?.next || "Continue");
  ctx.later?.(() => ctx.announce(parts.said));
  return true;
}

function updateSummary(view, ctx, root) {
  const line = root.querySelector(".summary__line");
  const score = root.querySelector(".summary__score");
  if (!line || !score) return false;
  setText(line, summaryLine(view, ctx));
  score.replaceWith(summaryScore(view));
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
  const ask = h("div", {class: "quiz__ask", "data-fit": ""}, prompt(q));
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

function timer(view, ctx) {
  const total = Math.max(1, Math.round(Number(view.time_limit)));
  const label = h("span", {class: "timer__text"});
  const bar = h("div", {class: "timer", style: {"--dur": `${total}s`}},
    icon("clock", "icon timer__icon"),
    h("span", {class: "timer__track", "aria-hidden": "true"}, h("span", {class: "timer__fill"})),
    label);
  const started = performance.now();
  const paint = () => {
    const left = Math.max(0, total - Math.floor((performance.now() - started) / 1000));
    setText(label, fmt(ctx.t("time_left"), {seconds: left}));
    return left;
  };
  const tick = () => {
    if (paint() > 0 && !ctx.signal.aborted) ctx.timer(tick, 1000 - ((performance.now() - started) % 1000));
  };
  timers.set(ctx, paint);
  tick();
  return bar;
}

function feedback(view, ctx) {
  const parts = feedbackParts(view, ctx);
  const card = h("div", {class: `feedback feedback--${parts.mood}`},
    parts.text,
    actions(ctx, button(ctx, {label: view.ui?.next || "Continue", iconName: "arrow",
      input: {type: "advance"}})));
  // the scene says its feedback (after its first frame is out)
  if (ctx.later) ctx.later(() => ctx.announce(parts.said));
  else ctx.announce(parts.said);
  return h("div", {class: "quiz__main quiz__main--feedback"}, parts.ask, card);
}

/** The feedback's words: the question under review, and the verdict with its reasons. */
function feedbackParts(view, ctx) {
  const q = view.question || {};
  const a = view.answer || {};
  const right = new Set(a.right || []);
  const mine = new Set(a.choices || []);
  const choices = Array.isArray(q.choices) ? q.choices : [];
  const review = h("ul", {class: `choices choices--static choices--review kind-${q.kind || "single"}`},
    choices.map((c, i) => {
      const isRight = right.has(c.id);
      const isMine = mine.has(c.id);
      const state = isRight ? "is-right" : isMine ? "is-wrong" : "is-other";
      const tags = [];
      if (isMine) tags.push(ctx.t("your_answer"));
      if (isRight && !isMine) tags.push(ctx.t("right_answer"));
      return h("li", {class: `choice choice--static ${state}${isMine ? " is-mine" : ""}`},
        h("span", {class: "choice__mark", "aria-hidden": "true"},
          isRight ? icon("check", "icon") : isMine ? icon("cross", "icon") : letter(i)),
        h("span", {class: "choice__text"}, c.text,
          // the mark is drawn; say it too (colour is never the only cue)
          h("span", {class: "sr-only"}, isRight ? ` — ${ctx.t("right_answer")}` : "")),
        tags.length ? h("span", {class: "choice__tag"}, tags.join(" · ")) : null);
    }));
  const ask = h("div", {class: "quiz__ask quiz__ask--review", "data-fit": ""},
    prompt(q, "quiz__prompt quiz__prompt--small"), review);

  const mood = a.timed_out ? "timeout" : a.correct ? "correct" : "incorrect";
  const badge = a.timed_out ? view.ui?.timed_out : a.correct ? view.ui?.correct : view.ui?.incorrect;
  const said = (a.feedback || []).filter(Boolean);
  const text = h("div", {class: "feedback__text", "data-fit": ""},
    h("h2", {class: "feedback__badge"},
      h("span", {class: "feedback__icon", "aria-hidden": "true"},
        icon(mood === "correct" ? "check" : mood === "timeout" ? "clock" : "bulb", "icon")),
      h("span", {}, badge || "")),
    said.map((t) => h("p", {class: "feedback__said"}, t)),
    a.explanation ? h("p", {class: "feedback__why"}, a.explanation) : null,
    sourceLine(ctx, q.source));
  return {ask, text, mood, said: [badge, ...said].filter(Boolean).join(" ")};
}

function summary(view, ctx) {
  const percent = Math.max(0, Math.min(100, Math.round(Number(view.percent) || 0)));
  const r = 44;
  const c = 2 * Math.PI * r;
  const ring = h("div", {class: `ring${view.passed ? " is-passed" : ""}`, "aria-hidden": "true",
    style: {"--dash": `${(c * percent) / 100} ${c}`, "--circ": `${c}`}},
  svgRing(r),
  h("span", {class: "ring__value"}, String(percent), h("small", {}, "%")));
  const card = h("div", {class: "summary", "data-fit": ""},
    ring,
    h("div", {class: "summary__words"},
      h("h1", {id: "scene-title", class: "summary__line", "data-scene-title": ""}, summaryLine(view, ctx)),
      summaryScore(view),
      actions(ctx, button(ctx, {label: view.ui?.next || "Continue", iconName: "arrow",
        input: {type: "advance"}}))));
  return card;
}

function summaryLine(view, ctx) {
  return fmt(ctx.t("summary"), {correct: view.correct ?? 0, count: view.count ?? 0});
}

function summaryScore(view) {
  const percent = Math.max(0, Math.min(100, Math.round(Number(view.percent) || 0)));
  return h("p", {class: "summary__score"},
    h("span", {}, view.ui?.score || "Score"),
    h("strong", {}, `${view.score ?? 0} / ${view.max ?? 0}`),
    h("span", {class: "sr-only"}, ` (${percent}%)`));
}

function svgRing(r) {
  const svg = h("svg:svg", {class: "ring__svg", viewBox: "0 0 100 100", focusable: "false"});
  svg.append(h("svg:circle", {class: "ring__track", cx: 50, cy: 50, r}),
    h("svg:circle", {class: "ring__fill", cx: 50, cy: 50, r}));
  return svg;
}
