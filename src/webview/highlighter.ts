/**
 * The panel's syntax highlighter, a bundle of its own (dist/webview-highlight.js): highlight.js's
 * core with the languages answers are usually written in. The panel loads it only when the first
 * code block appears (highlight.ts), so runs without code never pay for it. It returns HTML strings
 * only; the panel sanitizes them before they reach the DOM.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import dart from 'highlight.js/lib/languages/dart';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import dos from 'highlight.js/lib/languages/dos';
import elixir from 'highlight.js/lib/languages/elixir';
import go from 'highlight.js/lib/languages/go';
import graphql from 'highlight.js/lib/languages/graphql';
import haskell from 'highlight.js/lib/languages/haskell';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import latex from 'highlight.js/lib/languages/latex';
import lua from 'highlight.js/lib/languages/lua';
import makefile from 'highlight.js/lib/languages/makefile';
import markdown from 'highlight.js/lib/languages/markdown';
import objectivec from 'highlight.js/lib/languages/objectivec';
import perl from 'highlight.js/lib/languages/perl';
import php from 'highlight.js/lib/languages/php';
import plaintext from 'highlight.js/lib/languages/plaintext';
import powershell from 'highlight.js/lib/languages/powershell';
import python from 'highlight.js/lib/languages/python';
import r from 'highlight.js/lib/languages/r';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import scala from 'highlight.js/lib/languages/scala';
import scss from 'highlight.js/lib/languages/scss';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import swift from 'highlight.js/lib/languages/swift';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { HIGHLIGHTER_KEY, type HighlighterApi } from './highlightApi';

const LANGUAGES = {
  bash, c, cpp, csharp, css, dart, diff, dockerfile, dos, elixir, go, graphql, haskell, ini, java, javascript, json, kotlin,
  latex, lua, makefile, markdown, objectivec, perl, php, plaintext, powershell, python, r, ruby, rust, scala, scss, shell, sql,
  swift, typescript, xml, yaml,
};
for (const [name, language] of Object.entries(LANGUAGES)) {
  hljs.registerLanguage(name, language);
}
// Ids VS Code uses (document language ids) that are not highlight.js names or aliases.
hljs.registerAliases(['shellscript', 'sh', 'zsh'], { languageName: 'bash' });
hljs.registerAliases(['typescriptreact'], { languageName: 'typescript' });
hljs.registerAliases(['javascriptreact'], { languageName: 'javascript' });
hljs.registerAliases(['objective-c', 'objective-cpp'], { languageName: 'objectivec' });
hljs.registerAliases(['bat'], { languageName: 'dos' });
hljs.registerAliases(['docker'], { languageName: 'dockerfile' });
hljs.registerAliases(['output', 'console', 'log'], { languageName: 'plaintext' });
hljs.registerAliases(['vue', 'svelte', 'jsp'], { languageName: 'xml' });
// Model output is text, never HTML to keep: highlight.js escapes it; no warnings about "unescaped HTML".
hljs.configure({ ignoreUnescapedHTML: true, throwUnescapedHTML: false });

/** Guessing a fence-less block's language costs a pass per language: only for blocks of ordinary size. */
const AUTO_LIMIT_CHARS = 20_000;
/** A guess below this relevance (highlight.js's own score) is shown plain rather than mis-coloured. */
const AUTO_MIN_RELEVANCE = 6;
/** Languages tried when a block names none: the common ones, not the markup-like ones that match anything. */
const AUTO_LANGUAGES = [
  'bash', 'c', 'cpp', 'csharp', 'css', 'go', 'java', 'javascript', 'json', 'kotlin', 'php', 'python', 'ruby', 'rust', 'sql',
  'swift', 'typescript', 'xml', 'yaml',
];

const api: HighlighterApi = {
  highlight(code, language) {
    const name = language?.trim().toLowerCase();
    if (name) {
      const known = hljs.getLanguage(name);
      if (!known || known.name === 'Plain text') {
        return undefined;
      }
      const result = hljs.highlight(code, { language: name, ignoreIllegals: true });
      return { html: result.value, language: result.language ?? name };
    }
    if (code.length > AUTO_LIMIT_CHARS) {
      return undefined;
    }
    const guess = hljs.highlightAuto(code, AUTO_LANGUAGES);
    return guess.language && guess.relevance >= AUTO_MIN_RELEVANCE ? { html: guess.value, language: guess.language } : undefined;
  },
};

(globalThis as { [HIGHLIGHTER_KEY]?: HighlighterApi })[HIGHLIGHTER_KEY] = api;
