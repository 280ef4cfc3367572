// A team's page in a knowledge competition (docs/competition.md), for a tablet or a
// touch station: type the join code on the keypad (or come from the QR with ?code=),
// pick a team; wait for the host; answer each question with a touch (A–D, huge), the
// time left counting down; after it closes, right or wrong and the team's place; at the
// end, its place. Nothing is stored but the team's token in sessionStorage, so a reload
// in the middle of a question comes back to it with the time that is left.

import {Countdown, Link, connectionNote, h, langFromUrl, letter, ordinal, otherLang, reason,
  setTextOf, t, teamName, textOf, wholeSeconds} from "./common.js";

const TOKEN = "showfloor-competition-token";
const CODE_MAX = 8;

function storedToken() {
  try { return sessionStorage.getItem(TOKEN) || ""; } catch { return ""; }
}

function storeToken(token) {
  try { sessionStorage.setItem(TOKEN, token); } catch { /* private mode: no resume */ }
}

const state = {
  connected: false,
  welcome: null,
  view: null,
  lang: langFromUrl(null),
  code: (new URLSearchParams(location.search).get("code") || "").replace(/\D/g, "").slice(0, CODE_MAX),
  team: null,
  error: "",
  sent: null,  // {n, at}: the answer this page sent for the question on show
  picks: new Set(),  // choices toggled on a multiple-choice question
  screen: "",
  seen: null,  // the last question this page showed (n)
  picksFor: null,  // the question `picks` belong to (n)
};
window.competition = state;

const app = document.getElementById("app");
const live = document.getElementById("live");
const conn = h("p", {class: "conn", role: "status", hidden: true});
const langBtn = h("button", {class: "btn btn--quiet lang-btn", type: "button"});
const errorEl = h("p", {class: "error", role: "alert"});
langBtn.addEventListener("click", () => {
  state.lang = otherLang(state.lang);
  state.screen = "";
  draw();
});

const link = new Link({
  hello: () => {
    const token = storedToken();
    return token ? {role: "player", token} : {role: "player"};
  },
  onState: (s) => {
    state.connected = s === "open";
    document.body.dataset.connection = s;
    connectionNote(conn, state.lang, s);
  },
  onMessage: (msg) => {
    if (msg.type === "welcome") {
      state.welcome = msg;
      state.team = msg.team || null;
      if (!new URLSearchParams(location.search).get("lang")) {
        state.lang = langFromUrl(msg.default_language);
      }
    } else if (msg.type === "joined") {
      state.team = msg.team;
      if (msg.token) storeToken(msg.token);
      state.error = "";
    } else if (msg.type === "view") {
      state.view = msg.view;
      if (msg.view.you !== undefined) state.team = msg.view.you;
      draw();
    } else if (msg.type === "error") {
      state.error = msg.reason;
      // an answer the station refused was not taken (unless this team had answered)
      if (state.sent && state.view && state.sent.n === state.view.n &&
          msg.reason !== "this team has already answered" &&
          !(state.view.answered || []).includes(state.team)) {
        state.sent = null;
        updateQuestion(state.view);
      }
      showError();
    }
  },
});
const countdown = new Countdown(link.clock);
window.competition.countdown = countdown;

function showError() {
  const [text, lang] = reason(state.lang, state.error);
  errorEl.textContent = text;
  if (text) errorEl.setAttribute("lang", lang);
  if (text) live.textContent = text;
}

function setError(text) {
  state.error = text;
  showError();
}

function frameOf(title, ...body) {
  const v = state.view;
  const you = v && state.team ? (v.teams || []).find((x) => x.team === state.team) : null;
  const top = h("header", {class: "topline"},
    h("p", {class: "topline__title", text: you ? t(state.lang, "your_team", {name: teamName(you, state.lang)})
      : (v ? setTextOf(h("span"), v.title, state.lang).textContent : "")}),
    conn, langBtn);
  return [top, h("main", {}, title, ...body, errorEl)];
}

// ---------------------------------------------------------------- drawing

function screenFor(v) {
  if (!state.team) return "join";
  if (v.phase === "question") return "question";
  if (v.phase === "paused") return "paused";
  if (v.phase === "ended") return "ended";
  if (v.phase === "between" && v.result) return "result";
  return "wait";
}

let q = null;  // the question screen's elements, while it is on show

function draw() {
  const v = state.view;
  if (!v) return;
  const lang = state.lang;
  document.documentElement.lang = lang;
  langBtn.textContent = t(lang, "language");
  langBtn.setAttribute("lang", lang === "en" ? "zh-CN" : "en");
  const screen = screenFor(v);
  // a screen is drawn again only when what it shows changed (a question: when it is new)
  const key = screen === "question" ? `question:${v.n}:${v.at}`
    : `${screen}:${JSON.stringify([v.open, v.result && v.result.n, v.board, v.phase])}`;
  if (screen === "question" && state.screen === key) { updateQuestion(v); return; }
  if (state.screen.split(":")[0] !== screen) setError("");
  state.screen = key;
  if (screen !== "question") { q = null; countdown.set(null, null); }
  if (screen === "join") drawJoin(v);
  else if (screen === "question") drawQuestion(v);
  else if (screen === "paused") app.replaceChildren(...frameOf(h("h1", {text: t(lang, "paused")}),
    h("p", {class: "note", text: t(lang, "paused_text")})));
  else if (screen === "result") drawResult(v);
  else if (screen === "ended") drawEnded(v);
  else app.replaceChildren(...frameOf(setTextOf(h("h1"), v.title, lang),
    h("p", {class: "big", text: t(lang, v.phase === "lobby" ? "waiting_host" : "waiting_next")})));
}

function drawJoin(v) {
  const lang = state.lang;
  const out = h("p", {class: "code-out", id: "code-out", "aria-live": "polite",
    "aria-label": t(lang, "code_field"), role: "status", text: state.code});
  const digit = (d) => h("button", {class: "btn", type: "button", "data-digit": d, on: {click: () => {
    if (state.code.length < CODE_MAX) state.code += d;
    out.textContent = state.code;
  }}}, d);
  const keypad = h("div", {class: "keypad", role: "group", "aria-label": t(lang, "enter_code")},
    ["1", "2", "3", "4", "5", "6", "7", "8", "9"].map(digit),
    h("button", {class: "btn btn--small", type: "button", "data-key": "clear", on: {click: () => {
      state.code = ""; out.textContent = "";
    }}}, t(lang, "clear_code")),
    digit("0"),
    h("button", {class: "btn btn--small", type: "button", "data-key": "delete",
      "aria-label": t(lang, "delete_digit"), on: {click: () => {
        state.code = state.code.slice(0, -1); out.textContent = state.code;
      }}}, "⌫"));
  const open = v.open || [];
  const teams = h("div", {class: "team-pick", role: "group", "aria-labelledby": "pick-title"},
    h("h2", {id: "pick-title", text: t(lang, "pick_team")}),
    open.length ? open.map((x) => h("button", {class: "btn btn--primary", type: "button",
      "data-team": x.team, on: {click: () => join(x.team)}}, teamName(x, lang)))
      : h("p", {class: "note", text: t(lang, "no_open_teams")}));
  app.replaceChildren(...frameOf(h("h1", {text: t(lang, "enter_code")}),
    h("div", {class: "join"}, h("div", {class: "team-pick"}, out, keypad), teams)));
}

function join(team) {
  if (!state.code) {
    setError("");
    errorEl.textContent = t(state.lang, "code_first");
    errorEl.removeAttribute("lang");
    return;
  }
  setError("");
  link.send("join", {code: state.code, team});
}

function answeredHere(v) {
  return (v.answered || []).includes(state.team) || (state.sent && state.sent.n === v.n && state.sent.at === v.at);
}

function drawQuestion(v) {
  const lang = state.lang;
  const question = v.question;
  state.seen = v.n;
  const multiple = question.kind === "multiple";
  if (state.picksFor !== v.n) {  // a new question (a language switch keeps the picks)
    state.picks = new Set();
    state.picksFor = v.n;
  }
  const buttons = question.choices.map((c, i) => {
    const b = h("button", {class: "answer", type: "button", "data-choice": c.id,
      "aria-pressed": multiple ? "false" : null, on: {click: () => choose(c.id)}},
      h("span", {class: "choice-letter", "aria-hidden": "true", text: letter(i)}),
      setTextOf(h("span"), c.text, lang));
    return b;
  });
  q = {
    n: v.n,
    at: v.at,
    multiple,
    buttons,
    ready: h("p", {class: "big center", text: t(lang, "get_ready")}),
    body: h("div", {class: "q is-hidden"},
      setTextOf(h("h1", {class: "q__prompt"}), question.prompt, lang),
      multiple ? h("p", {class: "note", text: t(lang, "choose_all")}) : null,
      h("div", {class: "answers", role: "group", "aria-label": t(lang, "question_of", {n: v.n + 1, count: v.count})}, buttons),
      multiple ? h("button", {class: "btn btn--primary", type: "button", "data-action": "send",
        on: {click: () => send([...state.picks])}}, t(lang, "send")) : null),
    sent: h("p", {class: "sent", role: "status"}),
    fill: h("div", {class: "bar__fill"}),
    secs: h("p", {class: "q__secs", "aria-hidden": "true"}),
  };
  q.send = q.body.querySelector("[data-action='send']");
  const foot = h("footer", {class: "q__foot"}, h("div", {class: "bar", role: "presentation"}, q.fill), q.secs);
  app.replaceChildren(...frameOf(
    h("div", {class: "q__meta"},
      h("p", {class: "note", text: t(lang, "question_of", {n: v.n + 1, count: v.count})}), q.sent),
    foot, q.ready, q.body));
  countdown.onFrame = frame;
  countdown.set(v.at, v.close_at);
  updateQuestion(v);
}

function updateQuestion(v) {
  if (!q) return;
  const done = answeredHere(v);
  const up = countdown.active && countdown.revealed && countdown.left() <= 0;
  for (const b of q.buttons) {
    b.disabled = done || up;
    if (q.multiple) b.setAttribute("aria-pressed", String(state.picks.has(b.dataset.choice)));
    b.classList.toggle("is-picked", state.picks.has(b.dataset.choice));
  }
  if (q.send) q.send.disabled = done || up || state.picks.size === 0;
  const text = done ? t(state.lang, "answer_sent") : (up ? t(state.lang, "time_up") : "");
  if (q.sent.textContent !== text) q.sent.textContent = text;
}

function frame(c) {
  if (!q) return;
  const shown = c.revealed;
  q.ready.hidden = shown;
  q.body.classList.toggle("is-hidden", !shown);
  const total = Math.max(0.001, c.closeAt - c.at);
  const left = shown ? c.left() : total;
  q.fill.style.transform = `scaleX(${Math.max(0, Math.min(1, left / total))})`;
  const s = t(state.lang, "seconds_left", {s: wholeSeconds(left)});
  if (q.secs.textContent !== s) q.secs.textContent = s;
  if (shown && left <= 0) updateQuestion(state.view);
}

function choose(id) {
  const v = state.view;
  if (!q || !v || answeredHere(v)) return;
  if (q.multiple) {
    if (state.picks.has(id)) state.picks.delete(id); else state.picks.add(id);
    updateQuestion(v);
    return;
  }
  state.picks = new Set([id]);
  send([id]);
}

function send(choices) {
  const v = state.view;
  if (!q || !v || !choices.length || !countdown.revealed) return;
  const elapsed = countdown.elapsedMs();
  if (!link.send("answer", {n: v.n, choices, elapsed_ms: elapsed})) return;
  state.sent = {n: v.n, at: v.at, choices};
  updateQuestion(v);
}

function standing(v) {
  return (v.board || []).find((s) => s.team === state.team) || null;
}

function drawResult(v) {
  const lang = state.lang;
  const r = v.result;
  const right = r.correct.includes(state.team);
  // whether this team answered at all is known only to a page that saw the question
  const none = !right && state.seen === r.n && !(state.sent && state.sent.n === r.n);
  const verdict = right ? "you_right" : (none ? "you_none" : "you_wrong");
  const rightText = r.question.choices
    .map((c, i) => (r.right.includes(c.id) ? `${letter(i)} ${textOf(c.text, lang)[0]}` : ""))
    .filter(Boolean).join(" · ");
  const s = standing(v);
  app.replaceChildren(...frameOf(
    h("p", {class: `verdict ${right ? "is-right" : "is-wrong"}`, "data-verdict": verdict, text: t(lang, verdict)}),
    h("p", {class: "note", text: `${t(lang, "right_answer")}: ${rightText}`}),
    s ? h("p", {class: "big", "data-points": s.points, "data-rank": s.rank,
      text: t(lang, "your_points", {p: s.points, r: s.rank})}) : null,
    h("p", {class: "note", text: t(lang, "waiting_next")})));
  live.textContent = t(lang, verdict);
}

function drawEnded(v) {
  const lang = state.lang;
  const s = standing(v);
  app.replaceChildren(...frameOf(h("h1", {text: t(lang, "ended")}),
    s ? h("p", {class: "verdict is-right", "data-place": s.rank,
      text: t(lang, "your_place", {n: ordinal(lang, s.rank)})}) : null,
    s ? h("p", {class: "big", text: t(lang, "your_place_of", {count: v.board.length, p: s.points})}) : null,
    h("p", {class: "note", text: t(lang, "thanks")})));
}

link.connect();
