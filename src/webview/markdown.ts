/**
 * Markdown with math for answers and chains: marked for the markdown, KaTeX for
 * $…$, $$…$$, \(…\), \[…\] and bare \boxed{…}. Math and code blocks become placeholders in
 * marked's HTML, which is sanitized first; each math placeholder is then replaced by sanitized KaTeX
 * output, each code placeholder by a code block built as text (codeBlocks.ts) and highlighted later.
 */
import katex from 'katex';
import { splitThinking } from '../core/providers/thinkTags';
import { Marked, type TokenizerAndRendererExtension, type Tokens } from 'marked';
import { codeBlock } from './codeBlocks';
import { sanitizeKatexHtml, sanitizeMarkdownHtml } from './sanitize';

interface MathToken extends Tokens.Generic {
  type: 'math';
  tex: string;
  display: boolean;
}

/** Counters the browser tests read to prove that streaming does not re-parse markdown. */
export const markdownStats = { markdownRenders: 0, mathRenders: 0 };

// Math and code found during one synchronous parse; the renderer writes indexes to them into placeholders.
let pendingMath: Array<{ tex: string; display: boolean }> = [];
let pendingCode: Array<{ code: string; language: string; fenced: boolean }> = [];
let placeholderNonce = '';

function mathPlaceholder(token: Tokens.Generic): string {
  const t = token as MathToken;
  pendingMath.push({ tex: t.tex, display: t.display });
  const tag = t.display ? 'div' : 'span';
  return `<${tag} data-br-math="${placeholderNonce}:${pendingMath.length - 1}"></${tag}>`;
}

/** Index of the closing brace matching the `{` at `open`, or -1 when unbalanced. */
function matchingBrace(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
    } else if (c === '{') {
      depth++;
    } else if (c === '}' && --depth === 0) {
      return i;
    }
  }
  return -1;
}

const blockMath: TokenizerAndRendererExtension = {
  name: 'math',
  level: 'block',
  start(src: string) {
    return src.match(/^ {0,3}(?:\$\$|\\\[)/m)?.index;
  },
  tokenizer(src: string) {
    const m = /^ {0,3}\$\$([\s\S]+?)\$\$[ \t]*(?:\n+|$)/.exec(src) ?? /^ {0,3}\\\[([\s\S]+?)\\\][ \t]*(?:\n+|$)/.exec(src);
    return m ? { type: 'math', raw: m[0], tex: m[1].trim(), display: true } : undefined;
  },
  renderer: mathPlaceholder,
};

const inlineMath: TokenizerAndRendererExtension = {
  name: 'math',
  level: 'inline',
  start(src: string) {
    return src.match(/\$|\\\(|\\\[|\\boxed\{/)?.index;
  },
  tokenizer(src: string) {
    let m = /^\$\$([\s\S]+?)\$\$/.exec(src) ?? /^\\\[([\s\S]+?)\\\]/.exec(src);
    if (m) {
      return { type: 'math', raw: m[0], tex: m[1].trim(), display: true };
    }
    m = /^\\\(([\s\S]+?)\\\)/.exec(src)
      // $x$ but not currency: no space inside the dollars, no digit right after the closing one.
      ?? /^\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)/.exec(src);
    if (m) {
      return { type: 'math', raw: m[0], tex: m[1].trim(), display: false };
    }
    if (src.startsWith('\\boxed{')) {
      const close = matchingBrace(src, '\\boxed'.length);
      if (close > 0) {
        const raw = src.slice(0, close + 1);
        return { type: 'math', raw, tex: raw, display: false };
      }
    }
    return undefined;
  },
  renderer: mathPlaceholder,
};

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  extensions: [blockMath, inlineMath],
  renderer: {
    code(token: Tokens.Code): string {
      pendingCode.push({
        code: token.text,
        language: /^\S*/.exec(token.lang ?? '')?.[0] ?? '',
        fenced: token.codeBlockStyle !== 'indented',
      });
      return `<pre data-br-code="${placeholderNonce}:${pendingCode.length - 1}"></pre>\n`;
    },
  },
});

/** KaTeX output for one formula, sanitized; a formula KaTeX rejects is shown as its source, in error colour. */
export function renderMath(tex: string, display: boolean): DocumentFragment {
  markdownStats.mathRenders++;
  const html = katex.renderToString(tex, {
    displayMode: display,
    throwOnError: false,
    // No \href, \url, \includegraphics, \htmlClass/\htmlStyle/\htmlData from model output.
    trust: false,
    strict: 'ignore',
    maxSize: 100,
    maxExpand: 500,
    output: 'htmlAndMathml',
  });
  return sanitizeKatexHtml(html);
}

function randomNonce(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A chain as markdown, its thinking (a `<think>` section, as the run shows a reasoning model's
 * thinking) folded into a "Thinking" block of plain text apart from the reply.
 */
export function renderChain(text: string): DocumentFragment {
  const split = splitThinking(text);
  const thinking = split.thinking.trim();
  if (!thinking) {
    return renderMarkdown(text);
  }
  const reply = split.reply.trim();
  const fragment = document.createDocumentFragment();
  const details = document.createElement('details');
  details.className = 'thinking';
  const summary = document.createElement('summary');
  summary.textContent = `Thinking (${thinking.length.toLocaleString('en-US')} characters)`;
  const body = document.createElement('pre');
  body.className = 'thinking-body';
  body.textContent = thinking;
  details.append(summary, body);
  fragment.append(details, reply ? renderMarkdown(reply) : document.createTextNode(''));
  return fragment;
}

/** Markdown (with math) as a sanitized fragment, ready to append. */
export function renderMarkdown(text: string): DocumentFragment {
  markdownStats.markdownRenders++;
  pendingMath = [];
  pendingCode = [];
  placeholderNonce = randomNonce();
  let html: string;
  try {
    html = marked.parse(text, { async: false });
  } catch {
    // marked does not throw on ordinary input; if it ever does, the text is still shown, inert.
    const fallback = document.createDocumentFragment();
    const pre = document.createElement('pre');
    pre.textContent = text;
    fallback.append(pre);
    return fallback;
  }
  const math = pendingMath;
  const code = pendingCode;
  const nonce = placeholderNonce;
  pendingMath = [];
  pendingCode = [];
  const fragment = sanitizeMarkdownHtml(html);
  for (const holder of Array.from(fragment.querySelectorAll('[data-br-code]'))) {
    const [n, index] = (holder.getAttribute('data-br-code') ?? '').split(':');
    const item = n === nonce ? code[Number(index)] : undefined;
    if (item) {
      holder.replaceWith(codeBlock(item.code, item.language, { fenced: item.fenced }));
    } else {
      holder.removeAttribute('data-br-code');
    }
  }
  for (const holder of Array.from(fragment.querySelectorAll('[data-br-math]'))) {
    const [n, index] = (holder.getAttribute('data-br-math') ?? '').split(':');
    const item = n === nonce ? math[Number(index)] : undefined;
    if (item) {
      holder.replaceWith(item.display ? wrapDisplay(renderMath(item.tex, true)) : renderMath(item.tex, false));
    } else {
      // Model output imitating a placeholder: leave its (empty) element inert.
      holder.removeAttribute('data-br-math');
    }
  }
  return fragment;
}

function wrapDisplay(math: DocumentFragment): HTMLElement {
  const div = document.createElement('div');
  div.className = 'math-display';
  div.append(math);
  return div;
}

/** TeX-looking answers (\frac{1}{2}, x^2) render as math; anything else is plain text. */
export function renderAnswer(answer: string): DocumentFragment {
  if (/[\\^_{}]/.test(answer)) {
    return renderMath(answer, false);
  }
  const fragment = document.createDocumentFragment();
  fragment.append(document.createTextNode(answer));
  return fragment;
}
