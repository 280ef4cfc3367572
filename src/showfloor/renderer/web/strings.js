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
    partly: "部分正确",
    picked_right: "你选对了",
    picked_wrong: "你选了这个，但它不对",
    missed: "你漏选了",
    not_picked: "没有选",
    summary_points: "你得了 {score} 分，满分 {max} 分",
    summary_questions: "{count} 题中答对 {correct} 题",
    worth_one: "其中 1 题值 {points} 分",
    worth_many: "其中 {n} 题各值 {points} 分",
    summary: "你答对了 {correct} 题，共 {count} 题",
    time_left: "剩余 {seconds} 秒",
    problems: "展品内容有问题",
    language_switch: "切换语言",
    ask_field: "你的问题",
    ask_send: "提问",
    ask_suggested: "大家常问",
    ask_like_yours: "相近的问题",
    ask_topics: "按主题浏览",
    ask_keyboard: "键盘",
    ask_candidates: "候选词",
    ask_space: "空格",
    ask_backspace: "删除",
    ask_clear: "清空",
    ask_more_words: "更多候选词",
    ask_again: "再问一个问题",
    ask_done: "完成",
    ask_back: "返回",
    ask_more: "了解更多",
    ask_related: "相关问题",
    ask_hotline: "求助热线",
    ask_refused_title: "这个问题我还不能确定地回答",
    ask_refused_text: "我这里还没有这个问题的审核过的答案。可以看看下面这些问题，也可以问问身边的工作人员。",
    ask_refused_staff: "我这里还没有这个问题的审核过的答案。可以换个说法再问，也可以问问身边的工作人员。",
    ask_refused_related: "你可能想问",
  },
  "zh-TW": {
    accessibility: "顯示設定",
    large_text: "大字號",
    high_contrast: "高對比度",
    reconnecting: "正在重新連線…",
    choose_all: "可複選：選出所有正確的答案",
    your_answer: "你的選擇",
    right_answer: "正確答案",
    partly: "部分正確",
    picked_right: "你選對了",
    picked_wrong: "你選了這個，但它不對",
    missed: "你漏選了",
    not_picked: "沒有選",
    summary_points: "你得了 {score} 分，滿分 {max} 分",
    summary_questions: "{count} 題中答對 {correct} 題",
    worth_one: "其中 1 題值 {points} 分",
    worth_many: "其中 {n} 題各值 {points} 分",
    summary: "你答對了 {correct} 題，共 {count} 題",
    time_left: "剩餘 {seconds} 秒",
    problems: "展品內容有問題",
    language_switch: "切換語言",
    ask_field: "你的問題",
    ask_send: "提問",
    ask_suggested: "大家常問",
    ask_like_yours: "相近的問題",
    ask_topics: "按主題瀏覽",
    ask_keyboard: "鍵盤",
    ask_candidates: "候選詞",
    ask_space: "空格",
    ask_backspace: "刪除",
    ask_clear: "清空",
    ask_more_words: "更多候選詞",
    ask_again: "再問一個問題",
    ask_done: "完成",
    ask_back: "返回",
    ask_more: "了解更多",
    ask_related: "相關問題",
    ask_hotline: "求助熱線",
    ask_refused_title: "這個問題我還不能確定地回答",
    ask_refused_text: "我這裡還沒有這個問題的審核過的答案。可以看看下面這些問題，也可以問問身邊的工作人員。",
    ask_refused_staff: "我這裡還沒有這個問題的審核過的答案。可以換個說法再問，也可以問問身邊的工作人員。",
    ask_refused_related: "你可能想問",
  },
  en: {
    accessibility: "Display settings",
    large_text: "Large text",
    high_contrast: "High contrast",
    reconnecting: "Reconnecting…",
    choose_all: "Choose all the answers that are right",
    your_answer: "Your answer",
    right_answer: "Right answer",
    partly: "Partly right",
    picked_right: "You picked this — right",
    picked_wrong: "You picked this — not right",
    missed: "You missed this one",
    not_picked: "Not picked",
    summary_points: "You scored {score} of {max} points",
    summary_questions: "{correct} of {count} questions right",
    worth_one: "1 question is worth {points} points",
    worth_many: "{n} questions are worth {points} points each",
    summary: "You got {correct} of {count} right",
    time_left: "{seconds} s left",
    problems: "This exhibit has problems",
    language_switch: "Switch language",
    ask_field: "Your question",
    ask_send: "Ask",
    ask_suggested: "Questions people ask",
    ask_like_yours: "Questions like yours",
    ask_topics: "Browse by topic",
    ask_keyboard: "Keyboard",
    ask_candidates: "Words",
    ask_space: "space",
    ask_backspace: "Delete",
    ask_clear: "Clear",
    ask_more_words: "More words",
    ask_again: "Ask another question",
    ask_done: "Done",
    ask_back: "Back",
    ask_more: "Learn more",
    ask_related: "Related questions",
    ask_hotline: "Helpline",
    ask_refused_title: "I'm not sure about that one",
    ask_refused_text: "I don't have a checked answer to that question. Have a look at these questions, or ask a member of staff.",
    ask_refused_staff: "I don't have a checked answer to that question. Try asking it another way, or ask a member of staff.",
    ask_refused_related: "Maybe you meant",
  },
};

/**
 * The strings `t(view, key)` gives in English because we have none in the view's
 * language (and its `ui` has none either): {text: "en"}, for `lang` attributes.
 */
export function englishFallbacks(view) {
  const lang = (view && view.lang) || "en";
  if (lang === "en" || lang.startsWith("en-")) return {};
  const ui = (view && view.ui) || {};
  const table = STRINGS[lang] || STRINGS[lang.split("-")[0]] ||
    (lang.startsWith("zh") ? STRINGS["zh-CN"] : {});
  const out = {};
  for (const [key, text] of Object.entries(STRINGS.en)) {
    if (typeof ui[key] !== "string" && table[key] === undefined) out[text] = "en";
  }
  return out;
}

/** The string `key` for `view` (its `ui` first, then ours in its language, then English). */
export function t(view, key) {
  const ui = view && view.ui;
  if (ui && typeof ui[key] === "string") return ui[key];
  const lang = (view && view.lang) || "en";
  const table = STRINGS[lang] || STRINGS[lang.split("-")[0]] ||
    (lang.startsWith("zh") ? STRINGS["zh-CN"] : STRINGS.en);
  return table[key] ?? STRINGS.en[key] ?? key;
}
