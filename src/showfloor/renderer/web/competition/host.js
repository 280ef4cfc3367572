// The competition's host page, for the staff's tablet or touch panel (docs/competition.md):
// the teams (add a name, remove one), Begin; between questions Next question and End;
// during one Pause, Skip, End and "answered 5/8"; Resume; New competition at the end.
// The ranking is always shown, small. Without the station's key (?key=, printed when
// the station starts) the page says it is for staff and shows nothing else.

import {Countdown, Link, connectionNote, drawRanking, h, langFromUrl, otherLang, reason,
  setTextOf, t, teamName, wholeSeconds} from "./common.js";

const key = new URLSearchParams(location.search).get("key") || "";

const state = {
  connected: false,
  welcome: null,
  view: null,
  lang: langFromUrl(null),
  error: "",
  staffOnly: false,
  link: "",  // the connection's state
};
window.competition = state;

const app = document.getElementById("app");
const live = document.getElementById("live");

const els = {
  conn: h("p", {class: "conn", role: "status", hidden: true}),
  lang: h("button", {class: "btn btn--quiet lang-btn", type: "button"}),
  title: h("h1", {class: "topline__title"}),
  phase: h("p", {class: "phase"}),
  error: h("p", {class: "error", role: "alert"}),
  codeLabel: h("p", {class: "code-label"}),
  code: h("p", {class: "code"}),
  top: null,
  url: h("p", {class: "note"}),
  body: h("div", {class: "panel"}),
  rank: h("ol", {class: "rank"}),
  rankTitle: h("h2"),
  live: h("p", {class: "live"}),
  input: h("input", {id: "team-name", type: "text", autocomplete: "off", maxlength: 40,
    spellcheck: "false"}),
};
els.lang.addEventListener("click", () => {
  state.lang = otherLang(state.lang);
  draw();
});
els.input.addEventListener("keydown", (e) => { if (e.key === "Enter") addTeam(); });

function staffOnly() {
  state.staffOnly = true;
  link.stop();
  document.documentElement.lang = state.lang;
  app.replaceChildren(h("main", {class: "staff-only"},
    h("h1", {text: t(state.lang, "staff_only")}),
    h("p", {class: "note", text: t(state.lang, "staff_only_text")})));
}

const link = new Link({
  hello: () => ({role: "host", key}),
  onState: (s) => {
    state.connected = s === "open";
    state.link = s;
    document.body.dataset.connection = s;
    connectionNote(els.conn, state.lang, s);
  },
  onMessage: (msg) => {
    if (msg.type === "welcome") {
      state.welcome = msg;
      if (!new URLSearchParams(location.search).get("lang")) {
        state.lang = langFromUrl(msg.default_language);
      }
    } else if (msg.type === "view") {
      state.view = msg.view;
      state.error = "";
      draw();
    } else if (msg.type === "error") {
      if (!state.welcome) { staffOnly(); return; }  // refused at hello: a wrong key
      state.error = msg.reason;
      showError();
    }
  },
});
const countdown = new Countdown(link.clock);

function showError() {
  const [text, lang] = reason(state.lang, state.error);
  els.error.textContent = text;
  if (text) els.error.setAttribute("lang", lang);
  if (els.top) els.top.hidden = els.code.hidden && !text;
}

function act(type, fields = {}) {
  state.error = "";
  showError();
  link.send(type, fields);
}

function addTeam() {
  const name = els.input.value;
  act("add_team", {name});
  els.input.value = "";
}

function button(label, type, {primary = false, fields = {}, name} = {}) {
  return h("button", {class: `btn${primary ? " btn--primary" : ""}`, type: "button",
    "data-action": type, "aria-label": name, on: {click: () => act(type, fields)}}, label);
}

// ---------------------------------------------------------------- drawing

/** Every team of the lobby: those playing (claimed), then those waiting for a player. */
function lobbyTeams(v) {
  const seen = new Set();
  const out = [];
  for (const x of [...(v.teams || []), ...(v.open || [])]) {
    if (seen.has(x.team)) continue;
    seen.add(x.team);
    out.push(x);
  }
  return out;
}

function draw() {
  if (state.staffOnly) return;
  const v = state.view;
  const lang = state.lang;
  document.documentElement.lang = lang;
  els.lang.textContent = t(lang, "language");
  els.lang.setAttribute("lang", lang === "en" ? "zh-CN" : "en");
  els.rankTitle.textContent = t(lang, "board_small");
  connectionNote(els.conn, lang, state.link || "connecting");
  if (!v) return;
  setTextOf(els.title, v.title, lang);
  els.phase.textContent = `${t(lang, "host_title")} · ${t(lang, `phase_${v.phase}`)}`;
  showError();

  const body = [];
  const teams = v.teams || [];
  const claimed = new Set(v.claimed || []);
  if (v.phase === "lobby") {
    els.code.textContent = v.code ? String(v.code) : "";
    els.url.textContent = v.join_url || "";
    // a final across halls begins by itself (docs/competition.md): no Begin button
    body.push(v.final ? h("p", {class: "note", text: t(lang, "final_lobby", {name: v.final.name})})
      : h("div", {class: "actions"}, button(t(lang, "begin"), "begin", {primary: true})),
      h("h2", {text: t(lang, "teams")}),
      h("ul", {class: "team-list"}, lobbyTeams(v).map((x) => {
        const name = teamName(x, lang);
        return h("li", {class: `team-item${claimed.has(x.team) ? " is-claimed" : ""}`, data: {team: x.team}},
          h("span", {}, h("span", {class: "team-item__name", text: name}),
            h("span", {class: "team-item__state",
              text: t(lang, claimed.has(x.team) ? "team_claimed" : "team_open")})),
          button(t(lang, "remove_short"), "remove_team",
            {fields: {team: x.team}, name: t(lang, "remove", {name})}));
      })),
      h("div", {class: "add"},
        h("label", {for: "team-name"}, h("span", {text: t(lang, "add_team_label")}), els.input),
        h("button", {class: "btn", type: "button", "data-action": "add_team",
          on: {click: addTeam}}, t(lang, "add_team"))));
  } else {
    els.code.textContent = "";
    els.url.textContent = "";
  }
  if (v.phase === "between") {
    if (v.result) {
      body.push(h("p", {class: "note", text: t(lang, "last_result",
        {right: v.result.correct.length, answered: v.result.answered})}));
    }
    body.push(v.final
      ? h("div", {class: "actions"}, h("p", {class: "note", text: t(lang, "final_between")}),
        button(t(lang, "end"), "end"))
      : h("div", {class: "actions"},
        button(t(lang, "next"), "next", {primary: true}), button(t(lang, "skip"), "skip"),
        button(t(lang, "end"), "end")));
  } else if (v.phase === "question" || v.phase === "paused") {
    body.push(setTextOf(h("h2", {class: "q__prompt"}), v.question.prompt, lang),
      h("p", {class: "note", text: t(lang, "question_of", {n: v.n + 1, count: v.count})}),
      els.live,
      h("div", {class: "actions"},
        v.phase === "question" ? button(t(lang, "pause"), "pause", {primary: true})
          : button(t(lang, "resume"), "resume", {primary: true}),
        v.final ? null : button(t(lang, "skip"), "skip"), button(t(lang, "end"), "end")));
  } else if (v.phase === "ended") {
    body.push(h("p", {class: "note", text: t(lang, "ended")}),
      h("div", {class: "actions"}, button(t(lang, "new"), "new", {primary: true})));
  }
  const answered = t(lang, "answered_of", {a: (v.answered || []).length, b: teams.length});
  countdown.onFrame = (c) => {
    if (v.phase === "paused") {
      const left = Math.max(0, v.seconds - (v.used_ms || 0) / 1000);
      els.live.textContent = `${answered} · ${t(lang, "paused")} · ${t(lang, "seconds_left", {s: wholeSeconds(left)})}`;
    } else {
      const left = c.revealed ? c.left() : Math.max(0, (c.closeAt ?? 0) - (c.at ?? 0));
      els.live.textContent = `${answered} · ${t(lang, "seconds_left", {s: wholeSeconds(left)})}`;
    }
  };
  countdown.set(v.phase === "question" ? v.at : null, v.phase === "question" ? v.close_at : null);
  if (v.phase !== "question") countdown.onFrame(countdown);
  els.body.replaceChildren(...body);
  drawRanking(els.rank, v.board || [], lang, {animate: true});
  live.textContent = v.phase === "question" || v.phase === "paused" ? answered : "";

  if (!app.contains(els.body)) {
    app.replaceChildren(
      h("header", {class: "topline"},
        h("div", {}, els.title, els.phase), els.conn, els.lang),
      h("main", {class: "wrap"},
        h("div", {class: "col"}, els.top = h("div", {class: "panel"}, els.codeLabel, els.code, els.url, els.error), els.body),
        h("aside", {class: "panel", "aria-labelledby": "rank-title"},
          Object.assign(els.rankTitle, {id: "rank-title"}), els.rank)));
  }
  els.code.hidden = !els.code.textContent;
  els.codeLabel.hidden = els.code.hidden;
  els.codeLabel.textContent = t(lang, "join_code");
  els.url.hidden = !els.url.textContent;
  els.top.hidden = els.code.hidden && !els.error.textContent;
}

if (!key) {
  staffOnly();
} else {
  draw();
  link.connect();
}
