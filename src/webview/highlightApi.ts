/**
 * What the lazily loaded highlighter bundle (highlighter.ts → dist/webview-highlight.js) hands the
 * panel: shared by both bundles, types and one key only, so the panel's own bundle stays small.
 */

/** Where the highlighter bundle leaves its API on globalThis. A symbol: no element id or name in model output can shadow it. */
export const HIGHLIGHTER_KEY = Symbol.for('budgetReasoner.highlighter');

/** The highlighter bundle's file name, next to the panel's own bundle in dist/. */
export const HIGHLIGHTER_FILE = 'webview-highlight.js';

export interface Highlighted {
  /** highlight.js's HTML: escaped text in spans with hljs classes. Still untrusted: it is sanitized before use. */
  html: string;
  /** The language it was highlighted as. */
  language: string;
}

export interface HighlighterApi {
  /**
   * The code highlighted as `language` (a fence's word or a VS Code language id), or, without one, as
   * the likeliest of the registered languages. Undefined when the language is unknown or no guess is good.
   */
  highlight(code: string, language: string | undefined): Highlighted | undefined;
}
