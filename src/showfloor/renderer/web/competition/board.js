// The competition's leaderboard, for a projector or a big screen (docs/competition.md):
// the lobby (the join code in huge digits, the QR, the teams joined), the question on
// show (its countdown), the answers' distribution after it closes, then the ranking
// (rows glide to their new places), the podium at the end. It also takes the buzzer
// boxes' keys (keyboard-wedge USB devices plugged into this PC): a listed key → `buzz`.
//
// Language: ?lang=zh-CN|en, else the competition's default.

import {Countdown, Link, connectionNote, drawRanking, h, langFromUrl, letter, reason, setTextOf,
  t, teamName, textOf, wholeSeconds} from "./common.js";

const RESULT_FOR = 5000;  // ms the distribution shows before the ranking

const state = {
  connected: false,
  welcome: null,
  view: null,
  lang: langFromUrl(null),
  screen: "",  // lobby | ready | question | paused | result | ranking | ended
  resultShownAt: 0,
  resultN: null,
  buzzers: new Map(),  // key → {team, choice}
  buzzes: 0,
};
window.competition = state;

const app = document.getElementById("app");
const live = document.getElementById("live");
const conn = h("p", {class: "conn", role: "status", hidden: true});
const toast = h("p", {class: "toast", role: "status", hidden: true});
let toastTimer = 0;
let resultTimer = 0;

const link = new Link({
  hello: () => ({role: "board"}),
  onState: (s) => {
    state.connected = s === "open";
    document.body.dataset.connection = s;
    connectionNote(conn, state.lang, s);
  },
  onMessage: (msg) => {
    if (msg.type === "welcome") {
      state.welcome = msg;
      if (!new URLSearchParams(location.search).get("lang")) {
        state.lang = langFromUrl(msg.default_language);
      }
      state.buzzers = new Map((msg.buzzers || []).map((b) => [String(b.key), b]));
      document.documentElement.lang = state.lang;
    } else if (msg.type === "view") {
      state.view = msg.view;
      draw();
    } else if (msg.type === "error") {
      say(reason(state.lang, msg.reason));
    }
  },
});
const countdown = new Countdown(link.clock);
window.competition.countdown = countdown;

function say([text, lang]) {
  toast.textContent = text;
  toast.setAttribute("lang", lang);
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, 4000);
}

// the buzzer boxes: keys the profile maps to a team and a choice
document.addEventListener("keydown", (e) => {
  if (!state.buzzers.has(e.key) || e.repeat) return;
  e.preventDefault();
  const v = state.view;
  if (!v || v.phase !== "question") return;
  state.buzzes += 1;
  link.send("buzz", {key: e.key, elapsed_ms: countdown.elapsedMs()});
});

// ---------------------------------------------------------------- drawing

function screenFor(v) {
  if (v.phase === "lobby") return "lobby";
  if (v.phase === "ended") return "ended";
  if (v.phase === "paused") return "paused";
  if (v.phase === "question") return "question";
  // between: the last result, then the ranking
  if (v.result && v.result.n !== state.resultN) {
    state.resultN = v.result.n;
    state.resultShownAt = performance.now();
  }
  if (v.result && performance.now() - state.resultShownAt < RESULT_FOR) return "result";
  return "ranking";
}

function head(v, meta) {
  const title = setTextOf(h("h1", {class: "board__title"}), v.title, state.lang);
  return h("header", {class: "board__head"}, title,
    meta ? h("p", {class: "board__meta", text: meta}) : null);
}

function draw() {
  const v = state.view;
  if (!v) return;
  document.documentElement.lang = state.lang;
  const screen = screenFor(v);
  clearTimeout(resultTimer);
  if (screen === "result") {
    resultTimer = setTimeout(draw, RESULT_FOR - (performance.now() - state.resultShownAt) + 20);
  }
  const was = state.screen;
  state.screen = screen;
  if (screen === "question") return drawQuestion(v, was === "question");
  countdown.set(null, null);
  const main = h("main", {class: "screen"});
  if (screen === "lobby") drawLobby(main, v);
  else if (screen === "paused") drawPaused(main, v);
  else if (screen === "result") drawResult(main, v);
  else if (screen === "ranking") return drawRankingScreen(v, was === "ranking" || was === "result");
  else drawEnded(main, v);
  app.replaceChildren(main, conn, toast);
}

function drawLobby(main, v) {
  const joined = v.teams || [];
  const code = v.code ? String(v.code) : "";
  main.append(
    head(v, null),
    h("section", {class: "lobby"},
      h("div", {class: "lobby__join"},
        h("img", {class: "lobby__qr", src: `/competition/join.svg?code=${encodeURIComponent(code)}`,
          alt: t(state.lang, "qr_alt"), width: 420, height: 420}),
        h("p", {class: "lobby__url", text: v.join_url || `${location.origin}/competition/play`})),
      h("div", {class: "lobby__teams"},
        h("p", {class: "lobby__label", text: t(state.lang, "join_code")}),
        h("p", {class: "lobby__code", "data-code": code, text: code}),
        h("p", {class: "lobby__label", text: t(state.lang, "join_scan")}),
        h("h2", {text: t(state.lang, "teams_joined")}),
        joined.length
          ? h("ul", {class: "chips"}, joined.map((x) => h("li", {class: "chip", text: teamName(x, state.lang)})))
          : h("p", {class: "note", text: t(state.lang, "no_teams_yet")}))));
  live.textContent = code ? `${t(state.lang, "join_code")} ${code}` : "";
}

function drawPaused(main, v) {
  main.append(head(v, t(state.lang, "question_of", {n: (v.n ?? 0) + 1, count: v.count})),
    h("p", {class: "ready", text: t(state.lang, "paused")}));
}

let qEls = null;

function drawQuestion(v, same) {
  const q = v.question;
  const key = `${v.n}:${v.at}`;
  if (!same || !qEls || qEls.key !== key) {
    const choices = q.choices.map((c, i) => h("li", {class: "q__choice"},
      h("span", {class: "choice-letter", "aria-hidden": "true", text: letter(i)}),
      setTextOf(h("span"), c.text, state.lang)));
    qEls = {
      key,
      ready: h("p", {class: "ready", text: t(state.lang, "get_ready")}),
      body: h("div", {class: "q is-hidden"},
        setTextOf(h("h2", {class: "q__prompt"}), q.prompt, state.lang),
        h("ol", {class: "q__choices"}, choices)),
      fill: h("div", {class: "bar__fill"}),
      secs: h("p", {class: "q__secs"}),
      count: h("p", {class: "q__count"}),
    };
    const foot = h("footer", {class: "q__foot"},
      h("div", {class: "bar", role: "presentation"}, qEls.fill), qEls.secs, qEls.count);
    const main = h("main", {class: "screen"},
      head(v, t(state.lang, "question_of", {n: v.n + 1, count: v.count})),
      qEls.ready, qEls.body, foot);
    app.replaceChildren(main, conn, toast);
    fit(qEls.body);
    const body = qEls.body;  // again once the fonts are in (their sizes differ)
    document.fonts.ready.then(() => { if (qEls && qEls.body === body) fit(body); });
    countdown.onFrame = frame;
    countdown.set(v.at, v.close_at);
  }
  qEls.count.textContent = t(state.lang, "answered_of", {a: v.answered.length, b: v.teams.length});
}

/** Shrink a long question's type until the prompt and every choice fit the screen. */
function fit(body) {
  const over = () => body.scrollHeight > body.clientHeight + 1 ||
    [...body.querySelectorAll(".q__choice")].some((c) => c.scrollHeight > c.clientHeight + 1);
  body.style.removeProperty("--fit");
  for (let f = 0.95; f >= 0.55 && over(); f -= 0.05) body.style.setProperty("--fit", f.toFixed(2));
}

function frame(c) {
  if (!qEls || state.screen !== "question") return;
  const shown = c.revealed;
  if (shown && !qEls.ready.hidden) {
    qEls.ready.hidden = true;
    fit(qEls.body);  // the room "Get ready" took is the question's now
  }
  qEls.ready.hidden = shown;
  qEls.body.classList.toggle("is-hidden", !shown);
  const total = Math.max(0.001, c.closeAt - c.at);
  const left = shown ? c.left() : total;
  qEls.fill.style.transform = `scaleX(${Math.max(0, Math.min(1, left / total))})`;
  qEls.secs.textContent = t(state.lang, "seconds_left", {s: wholeSeconds(left)});
}

function drawResult(main, v) {
  const r = v.result;
  const max = Math.max(1, ...Object.values(r.distribution));
  const rows = r.question.choices.map((c, i) => {
    const right = r.right.includes(c.id);
    const n = r.distribution[c.id] || 0;
    return h("li", {class: `dist-row${right ? " is-right" : ""}`, data: {choice: c.id}},
      h("span", {class: "dist-row__label"},
        h("span", {class: "choice-letter", "aria-hidden": "true", text: letter(i)}),
        setTextOf(h("span"), c.text, state.lang),
        right ? h("span", {class: "right-mark"}, h("span", {"aria-hidden": "true", text: "✓"}),
          h("span", {class: "sr-only", text: t(state.lang, "right_answer")})) : null),
      h("span", {class: "dist-row__bar"},
        h("span", {class: "dist-row__fill", style: {display: "block", transform: `scaleX(${n / max})`}})),
      h("span", {class: "dist-row__n", text: t(state.lang, "answers_count", {n})}));
  });
  main.append(head(v, t(state.lang, "question_of", {n: r.n + 1, count: v.count})),
    setTextOf(h("h2", {class: "q__prompt"}), r.question.prompt, state.lang),
    h("ol", {class: "dist"}, rows));
}

let rankEls = null;

function drawRankingScreen(v, animate) {
  if (!rankEls || !app.contains(rankEls.list)) {
    rankEls = {list: h("ol", {class: "rank"})};
    const meta = v.phase === "lobby" ? null : t(state.lang, "ranking");
    app.replaceChildren(h("main", {class: "screen"}, head(v, meta), rankEls.list), conn, toast);
    animate = false;
  }
  drawRanking(rankEls.list, v.board, state.lang, {animate});
}

function drawEnded(main, v) {
  const podium = v.podium || v.board.slice(0, 3);
  const step = (s, place) => s ? h("li", {class: `podium__step podium__step--${place}`},
    h("p", {class: "podium__name", text: teamName(s, state.lang)}),
    h("p", {class: "podium__points", text: t(state.lang, "points", {p: s.points})}),
    h("div", {class: "podium__block", text: String(place)})) : h("li", {class: "podium__step"});
  // 2nd left, 1st centre, 3rd right
  const steps = h("ol", {class: "podium", "aria-label": t(state.lang, "podium")},
    step(podium[1], 2), step(podium[0], 1), step(podium[2], 3));
  const rest = h("ol", {class: "rank rest"});
  drawRanking(rest, v.board.slice(3), state.lang);
  main.append(head(v, t(state.lang, "ended")), steps, rest);
  live.textContent = podium[0] ? `${t(state.lang, "place", {n: 1})}: ${teamName(podium[0], state.lang)}` : "";
}

// the title of the tab
function title() {
  const v = state.view;
  if (v) document.title = textOf(v.title, state.lang)[0];
}
setInterval(title, 2000);

link.connect();
