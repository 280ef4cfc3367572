// Interface strings the renderer needs beyond the view's `ui` block.
// A view's `ui` wins when it has the key (so an exhibit or the station can
// override any of them); these are the fallbacks, per language.

const STRINGS = {
  "zh-CN": {
    accessibility: "显示设置",
    large_text: "大字号",
    high_contrast: "高对比度",
    reconnecting: "正在重新连接…",
    choose_all: "可多选：选出所有正确的答案",
    your_answer: "你的选择",
    right_answer: "正确答案",
    summary: "你答对了 {correct} 题，共 {count} 题",
    time_left: "剩余 {seconds} 秒",
    problems: "展品内容有问题",
    language_switch: "切换语言",
  },
  "zh-TW": {
    accessibility: "顯示設定",
    large_text: "大字號",
    high_contrast: "高對比度",
    reconnecting: "正在重新連線…",
    choose_all: "可複選：選出所有正確的答案",
    your_answer: "你的選擇",
    right_answer: "正確答案",
    summary: "你答對了 {correct} 題，共 {count} 題",
    time_left: "剩餘 {seconds} 秒",
    problems: "展品內容有問題",
    language_switch: "切換語言",
  },
  en: {
    accessibility: "Display settings",
    large_text: "Large text",
    high_contrast: "High contrast",
    reconnecting: "Reconnecting…",
    choose_all: "Choose all the answers that are right",
    your_answer: "Your answer",
    right_answer: "Right answer",
    summary: "You got {correct} of {count} right",
    time_left: "{seconds} s left",
    problems: "This exhibit has problems",
    language_switch: "Switch language",
  },
};

/** The string `key` for `view` (its `ui` first, then ours in its language, then English). */
export function t(view, key) {
  const ui = view && view.ui;
  if (ui && typeof ui[key] === "string") return ui[key];
  const lang = (view && view.lang) || "en";
  const table = STRINGS[lang] || STRINGS[lang.split("-")[0]] ||
    (lang.startsWith("zh") ? STRINGS["zh-CN"] : STRINGS.en);
  return table[key] ?? STRINGS.en[key] ?? key;
}
