/**
 * Syntax highlighting of code blocks, off the panel's first paint: the highlighter is a bundle of
 * its own (dist/webview-highlight.js), loaded with the page's nonce by a script element the first
 * time a code block asks for it. Blocks show as plain text until it arrives and stay plain if it
 * never does. Its HTML is sanitized (spans with hljs classes only) and must give back exactly the
 * block's text, else the block stays plain.
 */
import { HIGHLIGHTER_FILE, HIGHLIGHTER_KEY, type HighlighterApi } from './highlightApi';
import { sanitizeHighlightHtml } from './sanitize';

/** Blocks longer than this stay plain: highlighting them would hold up the panel for little gain. */
export const HIGHLIGHT_LIMIT_CHARS = 200_000;

/** Milliseconds of highlighting per task; the rest waits for the next one, so the panel keeps painting. */
const SLICE_MS = 8;

/** Counters the browser tests read (no behaviour depends on them). */
export const highlightStats = { highlighterLoads: 0, highlighted: 0, plain: 0 };

// The panel's own script, while it runs: the highlighter sits next to it and gets its nonce.
const ownScript = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;
const ownSrc = ownScript?.src ?? '';
const ownNonce = ownScript?.nonce ?? '';

type State = 'idle' | 'loading' | 'ready' | 'failed';
let state: State = 'idle';
let api: HighlighterApi | undefined;
const queue: Array<{ code: HTMLElement; language: string | undefined }> = [];
let scheduled = false;

/**
 * Asks for `code` (a <code> element holding the block's text) to be highlighted as `language`
 * (a fence's word or a VS Code language id; none = guess). Returns at once; the element is
 * re-filled later, in place.
 */
export function highlightLater(code: HTMLElement, language: string | undefined): void {
  if (state === 'failed' || (code.textContent ?? '').length > HIGHLIGHT_LIMIT_CHARS) {
    return;
  }
  queue.push({ code, language });
  if (state === 'idle') {
    load();
  } else if (state === 'ready') {
    schedule();
  }
}

function load(): void {
  if (!ownSrc) {
    state = 'failed';
    queue.length = 0;
    return;
  }
  state = 'loading';
  highlightStats.highlighterLoads++;
  const script = document.createElement('script');
  // The CSP allows scripts with the page's nonce only; this one carries it (no 'unsafe-inline', no host allow-list).
  script.nonce = ownNonce;
  script.async = true;
  script.src = new URL(HIGHLIGHTER_FILE, ownSrc).toString();
  script.addEventListener('load', () => {
    api = (globalThis as { [HIGHLIGHTER_KEY]?: HighlighterApi })[HIGHLIGHTER_KEY];
    state = api ? 'ready' : 'failed';
    if (state === 'ready') {
      schedule();
    } else {
      queue.length = 0;
    }
  });
  script.addEventListener('error', () => {
    state = 'failed';
    queue.length = 0;
  });
  document.head.append(script);
}

function schedule(): void {
  if (!scheduled && queue.length) {
    scheduled = true;
    setTimeout(work, 0);
  }
}

function work(): void {
  scheduled = false;
  const t0 = performance.now();
  while (queue.length && performance.now() - t0 < SLICE_MS) {
    const item = queue.shift()!;
    // A block that was replaced (a newer answer, a re-rendered section) is not worth the work.
    if (item.code.isConnected && item.code.dataset.highlighted === undefined) {
      apply(item.code, item.language);
    }
  }
  schedule();
}

function apply(code: HTMLElement, language: string | undefined): void {
  const text = code.textContent ?? '';
  let result: ReturnType<HighlighterApi['highlight']>;
  try {
    result = api?.highlight(text, language);
  } catch {
    result = undefined;
  }
  const fragment = result ? sanitizeHighlightHtml(result.html) : undefined;
  if (!result || !fragment || fragment.textContent !== text) {
    code.dataset.highlighted = 'plain';
    highlightStats.plain++;
    return;
  }
  code.replaceChildren(fragment);
  code.classList.add('hljs');
  code.dataset.highlighted = result.language;
  highlightStats.highlighted++;
  // A block that named no language says the one it was taken for.
  const label = language ? null : code.closest('.code-block')?.querySelector('.code-lang');
  if (label) {
    label.textContent = result.language;
  }
}
