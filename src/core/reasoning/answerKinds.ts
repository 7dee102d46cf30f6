/**
 * What kind of answer a question wants, and how each kind is asked for and read back:
 * `short` (a value in \boxed{}), `code` (one final fenced code block), `prose` (markdown, answer first).
 * The kind is decided locally, with no call: by the action chosen on a selection, else by the words
 * of the question.
 */
import { splitThinking } from '../providers/thinkTags';
import { locateAnswer, type ExtractedAnswer } from './answers';

export const ANSWER_KINDS = ['short', 'code', 'prose'] as const;
export type AnswerKind = typeof ANSWER_KINDS[number];

/** Who chose a run's answer kind: the classifier (setting `auto`), the setting, or the run itself ("re-run as"). */
export const ANSWER_KIND_SOURCES = ['auto', 'setting', 'run'] as const;
export type AnswerKindSource = typeof ANSWER_KIND_SOURCES[number];

/** What the user asked to do with a selection of code (the quick pick's choices). */
export const SELECTION_ACTIONS = ['explain', 'find-bug', 'improve', 'write-tests', 'ask', 'selection-is-question'] as const;
export type SelectionAction = typeof SELECTION_ACTIONS[number];

/** What a question is about: code from the editor or the chat's references, carried with the question. */
export interface QuestionContext {
  /** Workspace-relative path (or the untitled name). */
  path: string;
  languageId: string;
  /** 1-based, inclusive: the selection's lines. */
  startLine: number;
  endLine: number;
  /** The selected text. */
  code: string;
  /** Lines just before and after the selection, shown for orientation (not part of the selection). */
  before?: string;
  after?: string;
}

export const SYSTEM_PROMPTS: Record<AnswerKind, string> = {
  short: 'Please reason step by step, and put your final answer within \\boxed{}.',
  code: 'You are an expert programmer. Reason briefly about the problem first, then give the complete final code in exactly one fenced code block, with its language, at the end of your reply. Put nothing after that block.',
  prose: 'Answer the question directly in the first sentence or two, then give the supporting detail. Use markdown, with fenced code blocks for any code. Be concise.',
};

export const FORCED_ANSWER_PROMPTS: Record<AnswerKind, string> = {
  short: 'Give only the final answer now, in \\boxed{}.',
  code: 'Give only the complete final code now, in one fenced code block, with no explanation.',
  prose: 'Give only your final answer now, in two or three sentences.',
};

/** max_tokens of a forced answer: a value is short; code and prose need room to be whole. */
export const FORCED_ANSWER_TOKENS: Record<AnswerKind, number> = { short: 48, code: 512, prose: 160 };

/** The templates of the quick pick's actions: what is sent as the question, with the code as context. */
export const ACTION_QUESTIONS: Record<Exclude<SelectionAction, 'ask' | 'selection-is-question'>, string> = {
  explain: 'Explain what this code does and how it works.',
  'find-bug': 'Find the bug in this code. Say what is wrong and why, then give the corrected code.',
  improve: 'Improve this code: make it clearer, safer or faster without changing what it does. Give the improved code.',
  'write-tests': 'Write unit tests for this code, in the testing style usual for its language.',
};

const CODE_ACTIONS: ReadonlySet<SelectionAction> = new Set(['find-bug', 'improve', 'write-tests']);

/** Language ids whose selections are text, not code: their selection is the question itself. */
const TEXT_LANGUAGES = new Set(['markdown', 'plaintext', 'latex', 'tex', 'restructuredtext', 'asciidoc', 'scminput', 'git-commit']);

/** True when a selection in a document of this language is the question itself, not code to ask about. */
export function selectionIsText(languageId: string): boolean {
  return TEXT_LANGUAGES.has(languageId);
}

const CODE_WORDS = /\b(?:write|implement|create|generate|refactor|rewrite|fix|correct|optimi[sz]e|port|convert|translate)\b[^.?!\n]{0,80}\b(?:function|method|class|script|program|code|snippet|query|regex|component|tests?|module|endpoint|sql|algorithm)\b|\bfind (?:the |a )?bugs?\b|\b(?:unit )?tests? for\b|^\s*(?:def \w+\(|function\s*\w*\(|class \w+\s*[:({]|import [\w{*]|#include\b|fn \w+\(|func \w+\()/im;
/** Questions that ask for an explanation by their first word, or say "explain" anywhere. */
const ASKS_EXPLANATION = /^\s*(?:explain|describe|compare|summari[sz]e|tell me|why)\b|\bexplain\b/i;
const MATH_SIGNS = /\$[^$]+\$|\\(?:frac|sqrt|boxed|cdot|times|le|ge|pi|sum|int)\b|\b(?:compute|calculate|evaluate|simplify|solve|how many|how much|what is the (?:value|sum|product|remainder|probability|area|smallest|largest|least|greatest|average|mean|total)|find (?:the )?(?:value|number|sum|remainder|smallest|largest|least|greatest|area|probability|all)|remainder)\b|\d\s*[-+*/^=]\s*\d/i;

/**
 * The kind a question wants, with no call: the action on a selection decides first (Find the bug,
 * Improve and Write tests want code; Explain wants prose); else words that ask for code, then words
 * that ask for an explanation, then signs of a calculation (with no code attached). A question with
 * none of these is answered in prose: every reply reads as prose.
 */
export function classifyQuestion(question: string, options: { action?: SelectionAction; context?: QuestionContext } = {}): AnswerKind {
  if (options.action && CODE_ACTIONS.has(options.action)) {
    return 'code';
  }
  if (options.action === 'explain') {
    return 'prose';
  }
  const text = question.slice(0, 4000);
  if (/\[asy\]/.test(text) && !options.context) {
    return 'short'; // a MATH diagram's Asymptote code, not code to write
  }
  if (CODE_WORDS.test(text) || /```/.test(text)) {
    return 'code';
  }
  if (ASKS_EXPLANATION.test(text)) {
    return 'prose';
  }
  if (!options.context && (MATH_SIGNS.test(text) || (/\d/.test(text) && text.length < 1500 && /\?\s*$|\b(?:find|what|which|how)\b/i.test(text)))) {
    return 'short';
  }
  return 'prose';
}

/** The kind a run uses: the user's setting unless `auto`, else the classifier's. */
export function answerKindFor(setting: AnswerKind | 'auto', question: string, options: { action?: SelectionAction; context?: QuestionContext } = {}): AnswerKind {
  return setting === 'auto' ? classifyQuestion(question, options) : setting;
}

/** A fenced block of a reply: its language (possibly empty), its code, and where the code starts. */
export interface FencedBlock {
  language: string;
  code: string;
  offset: number;
  /** False when the reply ended inside the block. */
  closed: boolean;
}

/**
 * The fenced blocks of a markdown text, outermost only: a block opened with four backticks may hold
 * three-backtick fences, as CommonMark says (the closing fence is at least as long, same character).
 */
export function fencedBlocks(text: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lineRe = /[^\n]*(?:\n|$)/g;
  let open: { char: string; length: number; language: string; start: number } | undefined;
  for (let m = lineRe.exec(text); m && m[0] !== ''; m = lineRe.exec(text)) {
    const line = m[0].replace(/\r?\n$/, '');
    const lineEnd = m.index + m[0].length;
    if (!open) {
      const opening = /^ {0,3}(`{3,}|~{3,})\s*([^\s`{]*)[^`]*$/.exec(line);
      if (opening) {
        open = { char: opening[1][0], length: opening[1].length, language: opening[2].replace(/^\{?\.?/, '').toLowerCase(), start: lineEnd };
      }
      continue;
    }
    const closing = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
    if (closing && closing[1][0] === open.char && closing[1].length >= open.length) {
      blocks.push({ language: open.language, code: text.slice(open.start, m.index).replace(/\n$/, ''), offset: open.start, closed: true });
      open = undefined;
    }
  }
  if (open) {
    blocks.push({ language: open.language, code: text.slice(open.start).replace(/\n$/, ''), offset: open.start, closed: false });
  }
  return blocks;
}

/** The reply without a visible reasoning section (`<think>…</think>`, an unclosed `<think>` to the end, or thinking before an orphan `</think>`). */
export function withoutThinking(text: string): string {
  return splitThinking(text).reply.trim();
}

/** A chain as shown: its thinking (if any) in a `<think>` section the panel folds away, then the reply. */
export function withThinkingSection(thinking: string | undefined, text: string): string {
  return thinking ? `<think>\n${thinking.replace(/<\/?think>/gi, '')}\n</think>\n\n${text}` : text;
}

export type KindAnswerForm = ExtractedAnswer['form'] | 'code-block' | 'unfenced-code' | 'prose';

export interface KindAnswer {
  /** The answer as shown: a value, the code of the final block, or the prose. */
  raw: string;
  form: KindAnswerForm;
  offset: number;
  /** The code block's language, for code answers. */
  language?: string;
}

/**
 * The answer of a reply, by kind. A short answer as before; code: the last fenced block (its language
 * kept), else the whole reply when it holds no block at all; prose: the whole reply minus any visible
 * reasoning. Undefined only when the reply holds nothing to read, or a short answer states none, or
 * the reply was cut inside its final code block.
 */
export function extractKindAnswer(kind: AnswerKind, text: string): KindAnswer | undefined {
  if (kind === 'short') {
    const thinks = /<think>|<\/think>/i.test(text);
    const found = locateAnswer(thinks ? withoutThinking(text) : text);
    if (!found || isUnknown(found.raw)) {
      return undefined;
    }
    // Offsets index the reply as sent (its logprobs line up with it), thinking included.
    return { raw: found.raw, form: found.form, offset: thinks ? Math.max(0, text.lastIndexOf(found.raw)) : found.offset };
  }
  const visible = withoutThinking(text);
  if (!visible) {
    return undefined;
  }
  if (kind === 'code') {
    const blocks = fencedBlocks(visible);
    const closed = blocks.filter((b) => b.closed && b.code.trim());
    const last = blocks[blocks.length - 1];
    if (last && !last.closed) {
      // Cut inside its last block: that block is not whole; an earlier whole one is still an answer.
      const earlier = closed[closed.length - 1];
      return earlier ? codeAnswer(text, earlier) : undefined;
    }
    const final = closed[closed.length - 1];
    if (final) {
      return codeAnswer(text, final);
    }
    if (blocks.length > 0) {
      // Fenced, but every block is empty: a reply that gave no code ("no recorded answer ... ``` ```") is no code answer.
      return undefined;
    }
    return { raw: visible, form: 'unfenced-code', offset: Math.max(0, text.indexOf(visible.slice(0, 40))) };
  }
  return { raw: visible, form: 'prose', offset: Math.max(0, text.indexOf(visible.slice(0, 40))) };
}

function codeAnswer(text: string, block: FencedBlock): KindAnswer {
  const at = text.indexOf(block.code);
  return { raw: block.code, form: 'code-block', offset: at >= 0 ? at : block.offset, ...(block.language ? { language: block.language } : {}) };
}

/** "unknown", "N/A", "?" and the like are never an answer. */
export function isUnknown(answer: string): boolean {
  return /^\s*(?:\\text\{\s*)?(?:unknown|n\/?a|none|\?+|cannot be determined|i don'?t know)\s*\}?\s*\.?\s*$/i.test(answer);
}
