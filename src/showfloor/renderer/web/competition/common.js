// What the three competition pages share (docs/competition.md; the protocol of issue 10):
// the WebSocket to /competition/ws, the clock exchange with the station, the page's
// strings in zh-CN and en, and the countdown of the question on show.
//
// Timing: offset = station clock − page clock, from the `sync` exchanges (NTP's four
// timestamps; the mean offset of the 4 exchanges with the smallest round trips of the
// last 32, less any 10 ms slower than the fastest: exactly
// src/showfloor/competition/clocksync.py). A question shows when the page's clock reads
// `at − offset` and closes at `close_at − offset`, so a page that loads mid-question
// shows the time that is left, not a new countdown.

import {Connection} from "../connection.js";
import {fmt, h} from "../dom.js";

export {fmt, h};

/** The page's clock, in seconds (the `t0` of a sync exchange). */
export function pageNow() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

// ---------------------------------------------------------------- clock sync

// 32 exchanges half a second apart: the fastest 4 of the last 16 s, averaged. With
// jitter on a school's Wi-Fi the shortest of 8 round trips still left 1-2 ms of
// asymmetry per page, enough to swap two answers 5 ms apart; the mean of the 4
// fastest of 32 took a page's p99 error from 3.3 to about 2 ms (bench/competition.py),
// and 16 s is too short for a clock's drift (tens of ppm) to matter.
const KEEP = 32;  // exchanges kept; those with the smallest round trips are trusted
const FAST = 4;  // the fastest exchanges averaged (each is lopsided by its own jitter)
const MARGIN = 0.010;  // s: one slower than the fastest by more is never averaged in
const BURST = 8;  // exchanges at start, ~100 ms apart
const BURST_GAP = 100;
const EVERY = 500;  // then one every half second

export class ClockSync {
  constructor() { this.samples = []; }

  /** One exchange: t0 and t3 on the page's clock, t1 and t2 on the station's. */
  add(t0, t1, t2, t3) {
    const s = {offset: ((t1 - t0) + (t2 - t3)) / 2, delay: Math.max(0, (t3 - t0) - (t2 - t1))};
    this.samples.push(s);
    if (this.samples.length > KEEP) this.samples.shift();
    return s;
  }

  /** The FAST exchanges with the smallest round trips, less any MARGIN slower than the
   *  fastest (fastest first). */
  trusted() {
    const fastest = [...this.samples].sort((a, b) => a.delay - b.delay).slice(0, FAST);
    return fastest.filter((s) => s.delay <= fastest[0].delay + MARGIN);
  }

  /** Station clock − page clock, in seconds (0 until the first exchange). */
  get offset() {
    const used = this.trusted();
    return used.length ? used.reduce((sum, s) => sum + s.offset, 0) / used.length : 0;
  }

  get ready() { return this.samples.length > 0; }

  /** A station time on the page's clock. */
  toLocal(stationT) { return stationT - this.offset; }
}

// ---------------------------------------------------------------- strings

const STRINGS = {
  "zh-CN": {
    language: "English",
    connecting: "正在连接…",
    reconnecting: "正在重新连接…",
    staff_only: "这个页面只供工作人员使用",
    staff_only_text: "请使用工作站启动时显示的主持人链接。",
    join_code: "加入码",
    join_scan: "扫码或输入加入码加入",
    qr_alt: "加入比赛的二维码",
    teams_joined: "已加入的队伍",
    no_teams_yet: "还没有队伍加入",
    question_of: "第 {n} / {count} 题",
    get_ready: "准备好…",
    seconds_left: "{s} 秒",
    answered_of: "已作答 {a} / {b}",
    paused: "比赛暂停中",
    paused_text: "主持人暂停了比赛，稍后继续。",
    right_answer: "正确答案",
    answers_count: "{n} 队",
    ranking: "排行榜",
    podium: "最终名次",
    points: "{p} 分",
    right_count: "答对 {n} 题",
    place: "第 {n} 名",
    rank_col: "名次",
    team_col: "队伍",
    points_col: "得分",
    right_col: "答对",
    waiting_host: "等待主持人开始",
    waiting_next: "等待下一题",
    ended: "比赛结束",
    // host
    host_title: "主持人",
    lobby: "等待队伍加入",
    teams: "队伍",
    team_claimed: "已加入",
    team_open: "等待加入",
    add_team_label: "新队伍名称",
    add_team: "添加队伍",
    remove: "移除 {name}",
    remove_short: "移除",
    begin: "开始比赛",
    next: "下一题",
    pause: "暂停",
    resume: "继续",
    skip: "跳过本题",
    end: "结束比赛",
    new: "新的比赛",
    phase_lobby: "大厅",
    phase_between: "题目之间",
    phase_question: "答题中",
    phase_paused: "已暂停",
    phase_ended: "已结束",
    last_result: "上一题：{right} 队答对，共 {answered} 队作答",
    final_lobby: "决赛「{name}」：到点自动开始，各展厅同时答题",
    final_between: "决赛：下一题按时自动出现",
    board_small: "排行榜",
    // player
    enter_code: "输入加入码",
    code_field: "加入码",
    pick_team: "选择你们的队伍",
    no_open_teams: "所有队伍都已有人加入。请告诉主持人。",
    code_first: "请先输入加入码",
    delete_digit: "删除一位",
    clear_code: "清空",
    your_team: "你们的队伍：{name}",
    send: "提交答案",
    choose_all: "可多选：选好后点“提交答案”",
    answer_sent: "答案已提交",
    time_up: "时间到",
    you_right: "答对了！",
    you_wrong: "这题没答对",
    you_none: "这题没有作答",
    your_points: "你们共 {p} 分，目前第 {r} 名",
    your_place: "你们获得第 {n} 名",
    your_place_of: "共 {count} 队，你们得了 {p} 分",
    thanks: "谢谢参与！",
  },
  en: {
    language: "中文",
    connecting: "Connecting…",
    reconnecting: "Reconnecting…",
    staff_only: "This page is for staff",
    staff_only_text: "Use the host link the station showed when it started.",
    join_code: "Join code",
    join_scan: "Scan the code or type the join code",
    qr_alt: "QR code to join the competition",
    teams_joined: "Teams joined",
    no_teams_yet: "No team has joined yet",
    question_of: "Question {n} / {count}",
    get_ready: "Get ready…",
    seconds_left: "{s} s",
    answered_of: "Answered {a} / {b}",
    paused: "The competition is paused",
    paused_text: "The host paused the competition; it goes on soon.",
    right_answer: "Right answer",
    answers_count: "{n} teams",
    ranking: "Ranking",
    podium: "Final places",
    points: "{p} points",
    right_count: "{n} right",
    place: "Place {n}",
    rank_col: "Place",
    team_col: "Team",
    points_col: "Points",
    right_col: "Right",
    waiting_host: "Waiting for the host",
    waiting_next: "Waiting for the next question",
    ended: "The competition is over",
    host_title: "Host",
    lobby: "Waiting for teams",
    teams: "Teams",
    team_claimed: "joined",
    team_open: "waiting",
    add_team_label: "New team name",
    add_team: "Add team",
    remove: "Remove {name}",
    remove_short: "Remove",
    begin: "Begin",
    next: "Next question",
    pause: "Pause",
    resume: "Resume",
    skip: "Skip question",
    end: "End",
    new: "New competition",
    phase_lobby: "Lobby",
    phase_between: "Between questions",
    phase_question: "Question on show",
    phase_paused: "Paused",
    phase_ended: "Ended",
    last_result: "Last question: {right} right of {answered} answered",
    final_lobby: "Final “{name}”: it begins by itself at its start, in every hall at once",
    final_between: "Final: the next question comes by itself, on schedule",
    board_small: "Ranking",
    enter_code: "Enter the join code",
    code_field: "Join code",
    pick_team: "Pick your team",
    no_open_teams: "Every team has a player already. Tell the host.",
    code_first: "Enter the join code first",
    delete_digit: "Delete a digit",
    clear_code: "Clear",
    your_team: "Your team: {name}",
    send: "Send answer",
    choose_all: "Choose all that are right, then send",
    answer_sent: "Answer sent",
    time_up: "Time is up",
    you_right: "Right!",
    you_wrong: "Not this time",
    you_none: "No answer this time",
    your_points: "Your team has {p} points, place {r}",
    your_place: "Your team came {n}",
    your_place_of: "{count} teams; your team scored {p} points",
    thanks: "Thank you for playing!",
  },
};

/** The station's refusals (English sentences), in Chinese. Unknown ones are shown as sent. */
const REASONS_ZH = {
  "this is a final: the questions come on the hub's schedule (the host can pause, remove a team or end)":
    "这是决赛：题目按总控的时间表出现（主持人可以暂停、移除队伍或结束）",
  "that code is not right": "加入码不对",
  "that code is not right; look at the big screen": "加入码不对，请看大屏幕",
  "too many wrong codes; ask the host for help": "输错加入码的次数太多了，请找主持人帮忙",
  "pick one of the teams on the list": "请从列表中选一支队伍",
  "another screen already plays for that team; pick another": "已经有另一台设备代表这支队伍了，请选另一支",
  "this screen already plays for a team": "这台设备已经代表一支队伍了",
  "join a team first": "请先加入一支队伍",
  "there is already a team of that name": "已经有同名的队伍了",
  "no more teams can be added": "不能再添加队伍了",
  "type a team name": "请输入队名",
  "end this competition first": "请先结束这场比赛",
  "nothing is paused": "没有暂停的题目",
  "this page is for staff: open it with the host link": "这个页面只供工作人员使用：请用主持人链接打开",
  "this team has already answered": "你们队已经作答了",
  "time was up": "时间已到",
  "that question is not on show": "这道题现在不在作答中",
  "that question is not on show yet": "这道题还没有开始",
  "the competition is paused": "比赛暂停中",
  "no such team": "没有这支队伍",
  "a competition needs at least 2 teams": "比赛至少需要 2 支队伍",
  "this competition is full (40 teams)": "比赛已满（40 支队伍）",
  "a team name has at most 16 characters": "队名最多 16 个字",
  "a team name cannot be empty": "队名不能为空",
  "that team name is not allowed here; pick another": "这个队名不能使用，请换一个",
  "a team name cannot hold control characters": "队名不能包含控制字符",
  "not a choice of this question": "这不是本题的选项",
  "this question takes one choice": "这道题只能选一个",
  "the competition has already begun": "比赛已经开始了",
  "the competition is over": "比赛已经结束",
  "that team has already joined": "这支队伍已经加入了",
  "no question can be shown now": "现在不能出题",
  "every question has been asked": "所有题目都已出完",
  "nothing to pause": "没有可以暂停的题目",
  "nothing to skip": "没有可以跳过的题目",
};

export const LANGS = ["zh-CN", "en"];

function table(lang) {
  return STRINGS[lang] || (String(lang).startsWith("zh") ? STRINGS["zh-CN"] : STRINGS.en);
}

/** The page's string `key` in `lang`, `{name}` placeholders filled. */
export function t(lang, key, vars) {
  return fmt(table(lang)[key] ?? STRINGS.en[key] ?? key, vars);
}

/** A refusal sentence in `lang`: [text, its language]. */
export function reason(lang, text) {
  const s = String(text ?? "");
  if (String(lang).startsWith("zh") && REASONS_ZH[s]) return [REASONS_ZH[s], "zh-CN"];
  return [s, "en"];
}

/** A text map's text in `lang` (else the default, else any): [text, its language]. */
export function textOf(map, lang, fallback = "zh-CN") {
  if (map === null || map === undefined) return ["", lang];
  if (typeof map === "string") return [map, null];
  for (const l of [lang, fallback, ...Object.keys(map)]) {
    if (typeof map[l] === "string" && map[l]) return [map[l], l];
  }
  return ["", lang];
}

/** Set `el`'s text from a text map, and its `lang` when that differs from the page's. */
export function setTextOf(el, map, lang, fallback) {
  const [text, got] = textOf(map, lang, fallback);
  el.textContent = text;
  if (got && got !== lang) el.setAttribute("lang", got);
  else el.removeAttribute("lang");
  return el;
}

/** A choice's letter: 0 → A. */
export function letter(i) {
  return String.fromCharCode(65 + i);
}

/** The page's language: ?lang= (kept in the address, never stored), else the default. */
export function langFromUrl(fallback) {
  const want = new URLSearchParams(location.search).get("lang");
  return LANGS.includes(want) ? want : (LANGS.includes(fallback) ? fallback : "zh-CN");
}

/** Switch to the other language: the address keeps it (a reload keeps the language). */
export function otherLang(lang) {
  const next = lang === "en" ? "zh-CN" : "en";
  const url = new URL(location.href);
  url.searchParams.set("lang", next);
  history.replaceState(null, "", url);
  return next;
}

/** A place for a sentence: 2 → "2nd" in English, "2" in Chinese ("第 2 名"). */
export function ordinal(lang, n) {
  if (String(lang).startsWith("zh")) return String(n);
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({1: "st", 2: "nd", 3: "rd"}[n % 10] || "th");
  return `${n}${suffix}`;
}

/** A team's name in `lang`: a row of the view ({team, name, label: {lang: text}}). */
export function teamName(row, lang) {
  if (!row) return "";
  const label = row.label && typeof row.label === "object" ? row.label : null;
  if (label && typeof label[lang] === "string" && label[lang]) return label[lang];
  if (row.name !== undefined) return textOf(row.name, lang)[0];
  return label ? textOf(label, lang)[0] : "";
}

// ---------------------------------------------------------------- the connection

/**
 * The page's WebSocket to the station, with the clock exchanges.
 * `hello()` gives the fields of the first message; `onMessage(msg)` gets everything but
 * `sync` answers; `onState(state)` "connecting" | "open" | "closed".
 */
export class Link {
  constructor({hello, onMessage, onState}) {
    this.clock = new ClockSync();
    this.onMessageOuter = onMessage;
    this.stopped = false;
    this.syncTimer = 0;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.conn = new Connection({
      url: `${scheme}//${location.host}/competition/ws`,
      hello,
      onMessage: (msg) => this.onMessage(msg),
      onState: (state) => {
        if (state === "open") this.startSync();
        else clearTimeout(this.syncTimer);
        onState(state);
      },
    });
  }

  connect() { this.conn.connect(); }

  /** Close for good (a host page with a wrong key): no more tries. */
  stop() {
    this.stopped = true;
    clearTimeout(this.syncTimer);
    this.conn.retry = () => {};
    if (this.conn.ws) this.conn.ws.close();
  }

  send(type, fields = {}) { return this.conn.send(type, fields); }

  get open() { return this.conn.open; }

  startSync() {
    clearTimeout(this.syncTimer);
    let sent = 0;
    const tick = () => {
      if (this.stopped || !this.conn.open) return;
      this.conn.send("sync", {t0: pageNow()});
      sent += 1;
      this.syncTimer = setTimeout(tick, sent < BURST ? BURST_GAP : EVERY);
    };
    tick();
  }

  onMessage(msg) {
    if (msg.type === "ping") {  // the station measures its own round trip to this page
      this.conn.send("pong", {n: msg.n});
      return;
    }
    if (msg.type === "sync") {
      const t3 = pageNow();
      if ([msg.t0, msg.t1, msg.t2].every((x) => typeof x === "number")) {
        this.clock.add(msg.t0, msg.t1, msg.t2, t3);
      }
      return;
    }
    this.onMessageOuter(msg);
  }
}

// ---------------------------------------------------------------- the countdown

/**
 * The question on show, on this page's clock. `at` and `close_at` are station times;
 * the clock's offset is read afresh on every call (it improves as exchanges come in).
 */
export class Countdown {
  constructor(clock) {
    this.clock = clock;
    this.at = null;
    this.closeAt = null;
    this.frame = 0;
    this.timer = 0;
    this.onFrame = null;  // (countdown) => void, every animation frame while running
  }

  /** Follow the view's question (null `at`: nothing on show). */
  set(at, closeAt) {
    this.at = typeof at === "number" ? at : null;
    this.closeAt = typeof closeAt === "number" ? closeAt : null;
    this.run();
  }

  get active() { return this.at !== null && this.closeAt !== null; }

  /** The local reveal moment (page clock, s). */
  get revealLocal() { return this.clock.toLocal(this.at); }

  get revealed() { return this.active && pageNow() >= this.revealLocal; }

  /** Seconds until the reveal (0 once shown). */
  untilReveal() { return this.active ? Math.max(0, this.revealLocal - pageNow()) : 0; }

  /** Seconds left to answer (never more than close_at − at; 0 when time is up). */
  left() {
    if (!this.active) return 0;
    const end = this.clock.toLocal(this.closeAt);
    return Math.max(0, Math.min(end - pageNow(), this.closeAt - this.at));
  }

  /** The page's claim of the time since the reveal (integer ms) for an answer. */
  elapsedMs() {
    return Math.max(0, Math.round((pageNow() - this.revealLocal) * 1000));
  }

  run() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    if (!this.active) { if (this.onFrame) this.onFrame(this); return; }
    const loop = () => {
      this.frame = 0;
      if (this.onFrame) this.onFrame(this);
      if (this.active && this.left() > 0) this.frame = requestAnimationFrame(loop);
    };
    // a timer to the reveal as well: frames are throttled in a hidden tab
    const wait = this.untilReveal();
    if (wait > 0) this.timer = setTimeout(() => { cancelAnimationFrame(this.frame); loop(); }, wait * 1000);
    loop();
  }
}

/** Whole seconds to show for `s` seconds left (19.2 → 20: the count reaches 0 at the end). */
export function wholeSeconds(s) {
  return Math.max(0, Math.ceil(s - 1e-6));
}

// ---------------------------------------------------------------- small pieces

/** A status line for the connection ("Reconnecting…"), hidden while open. */
export function connectionNote(el, lang, state) {
  el.hidden = state === "open";
  el.textContent = state === "open" ? "" : t(lang, state === "connecting" ? "connecting" : "reconnecting");
}

/** The ranking as rows; `rowsEl` keeps one row per team (keyed) so rows can glide. */
export function drawRanking(rowsEl, board, lang, {animate = false} = {}) {
  const before = new Map();
  for (const row of rowsEl.children) before.set(row.dataset.team, row.getBoundingClientRect().top);
  const existing = new Map([...rowsEl.children].map((r) => [r.dataset.team, r]));
  const rows = [];
  for (const s of board) {
    let row = existing.get(s.team);
    if (!row) {
      row = h("li", {class: "rank-row", data: {team: s.team}},
        h("span", {class: "rank-row__place"}),
        h("span", {class: "rank-row__name"}),
        h("span", {class: "rank-row__right"}),
        h("span", {class: "rank-row__points"}));
    }
    row.querySelector(".rank-row__place").textContent = String(s.rank);
    row.querySelector(".rank-row__name").textContent = teamName(s, lang);
    row.querySelector(".rank-row__right").textContent = t(lang, "right_count", {n: s.right});
    row.querySelector(".rank-row__points").textContent = String(s.points);
    row.dataset.rank = String(s.rank);
    rows.push(row);
  }
  rowsEl.replaceChildren(...rows);
  if (!animate || window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
  // FLIP: each row starts where it was and glides to its new place
  for (const row of rows) {
    const was = before.get(row.dataset.team);
    if (was === undefined) continue;
    const dy = was - row.getBoundingClientRect().top;
    if (!dy) continue;
    row.style.transition = "none";
    row.style.transform = `translateY(${dy}px)`;
  }
  requestAnimationFrame(() => requestAnimationFrame(() => {
    for (const row of rows) {
      row.style.transition = "";
      row.style.transform = "";
    }
  }));
}
