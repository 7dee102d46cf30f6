/**
 * Signs that a code answer is broken, read from its text alone (nothing is run): a reply that ran on
 * (one character over and over, as a model stuck in a loop writes), brackets or strings left open,
 * and for Python a block with no body, an indentation that matches no enclosing block, a function
 * that is only a stub, or one that documents a result and never returns one. Each is a reason to
 * prefer another answer, never proof: a selection demotes flagged answers only against clean ones.
 */

export const CODE_DEFECTS = ['runaway', 'unbalanced', 'unterminated-string', 'empty-block', 'bad-indent', 'stub', 'no-return', 'undefined-name'] as const;
export type CodeDefect = typeof CODE_DEFECTS[number];

/** A run of one character longer than any sane line: a separator line is ~80, a stuck model writes hundreds. */
const RUNAWAY = /(\S)\1{119,}/;

const CLOSING: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** How a language writes strings and comments, as far as the bracket check needs to know. */
interface Lexicon {
  quotes: string[];
  triple: boolean;
  line: string[];
  block: boolean;
}

const PYTHON: Lexicon = { quotes: ['"', "'"], triple: true, line: ['#'], block: false };
const C_LIKE: Lexicon = { quotes: ['"', "'", '`'], triple: false, line: ['//'], block: true };
/** Unknown languages: double quotes only (a `'` may be a lifetime or a prime), no comments. */
const PLAIN: Lexicon = { quotes: ['"'], triple: false, line: [], block: false };

function lexiconOf(language: string): Lexicon {
  if (language === 'python') {
    return PYTHON;
  }
  if (/^(?:javascript|typescript|jsx|tsx|java|c|cpp|csharp|go|kotlin|swift|scala|dart|php)$/.test(language)) {
    return C_LIKE;
  }
  return PLAIN;
}

const LANGUAGE_ALIASES: Record<string, string> = {
  py: 'python', python3: 'python', py3: 'python', js: 'javascript', ts: 'typescript', 'c++': 'cpp', cs: 'csharp', golang: 'go', kt: 'kotlin',
};

/** The language of an answer: its fence's, else Python when it reads as Python (a `def ...:` line). */
export function codeLanguage(code: string, fenceLanguage?: string): string {
  const given = (fenceLanguage ?? '').toLowerCase();
  if (given) {
    return LANGUAGE_ALIASES[given] ?? given;
  }
  return /^[ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*\([^\n]*\)[^\n]*:[ \t]*(?:#[^\n]*)?$/m.test(code) ? 'python' : '';
}

/** One logical line: its indentation and its code with each string as `""` and comments dropped. */
interface LogicalLine {
  indent: number;
  text: string;
}

interface Scan {
  lines: LogicalLine[];
  unbalanced: boolean;
  unterminatedString: boolean;
}

/**
 * Walks the code once: strings, comments and brackets as the lexicon says; a new logical line starts
 * at a line break outside brackets and strings (Python's rule, harmless elsewhere).
 */
function scan(code: string, lex: Lexicon): Scan {
  const lines: LogicalLine[] = [];
  const stack: string[] = [];
  let unbalanced = false;
  let current: LogicalLine | undefined;
  let i = 0;
  const push = (s: string) => {
    if (!current) {
      const lineStart = code.lastIndexOf('\n', i - 1) + 1;
      const indent = /^[ \t]*/.exec(code.slice(lineStart))![0].replace(/\t/g, '    ').length;
      current = { indent, text: '' };
      lines.push(current);
    }
    current.text += s;
  };
  while (i < code.length) {
    const ch = code[i];
    if (ch === '\n') {
      if (stack.length === 0) {
        current = undefined;
      }
      i++;
      continue;
    }
    if (lex.line.some((m) => code.startsWith(m, i))) {
      const end = code.indexOf('\n', i);
      i = end < 0 ? code.length : end;
      continue;
    }
    if (lex.block && code.startsWith('/*', i)) {
      const end = code.indexOf('*/', i + 2);
      if (end < 0) {
        return { lines, unbalanced, unterminatedString: true };
      }
      i = end + 2;
      continue;
    }
    if (lex.quotes.includes(ch)) {
      const delimiter = lex.triple && code.startsWith(ch.repeat(3), i) ? ch.repeat(3) : ch;
      const multiline = delimiter.length === 3 || ch === '`';
      let j = i + delimiter.length;
      let closed = false;
      while (j < code.length) {
        if (code[j] === '\\') {
          j += 2;
          continue;
        }
        if (code[j] === '\n' && !multiline) {
          break;
        }
        if (code.startsWith(delimiter, j)) {
          closed = true;
          j += delimiter.length;
          break;
        }
        j++;
      }
      if (!closed) {
        return { lines, unbalanced: unbalanced || stack.length > 0, unterminatedString: true };
      }
      if (current && /(?:^|[^\w])[rRbBfFuU]{1,2}$/.test(current.text)) {
        current.text = current.text.replace(/[rRbBfFuU]{1,2}$/, ''); // a string prefix, not a name
      }
      push('""');
      i = j;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') {
      stack.push(ch);
    } else if (ch in CLOSING) {
      if (stack.pop() !== CLOSING[ch]) {
        unbalanced = true;
      }
    }
    if (ch !== ' ' && ch !== '\t' && ch !== '\r') {
      push(ch);
    } else if (current) {
      current.text += ' ';
    }
    i++;
  }
  return { lines, unbalanced: unbalanced || stack.length > 0, unterminatedString: false };
}

/** Python's block structure on the logical lines: empty blocks, stray indents, stubs and functions that never return. */
function pythonDefects(lines: readonly LogicalLine[]): CodeDefect[] {
  const found = new Set<CodeDefect>();
  const stack = [0];
  lines.forEach((line, k) => {
    const previous = lines[k - 1];
    if (previous && /:\s*$/.test(previous.text)) {
      if (line.indent <= previous.indent) {
        found.add('empty-block');
      } else {
        stack.push(line.indent);
      }
    } else if (line.indent > stack[stack.length - 1]) {
      found.add('bad-indent');
    } else {
      while (line.indent < stack[stack.length - 1]) {
        stack.pop();
      }
      if (line.indent !== stack[stack.length - 1]) {
        found.add('bad-indent');
      }
    }
  });
  if (lines.length > 0 && /:\s*$/.test(lines[lines.length - 1].text)) {
    found.add('empty-block');
  }
  lines.forEach((line, k) => {
    if (!/^(?:async\s+)?def\s/.test(line.text.trim())) {
      return;
    }
    const body: string[] = [];
    for (let j = k + 1; j < lines.length && lines[j].indent > line.indent; j++) {
      body.push(lines[j].text.trim());
    }
    const documented = body.length > 0 && /^(?:""\s*)+$/.test(body[0]);
    const statements = documented ? body.slice(1) : body;
    if (statements.every((s) => /^(?:pass|\.\.\.|raise\s+NotImplementedError\b.*)$/.test(s))) {
      found.add('stub');
    } else if (documented && !statements.some((s) => /(?:^|[^\w.])(?:return|yield)\b/.test(s))) {
      found.add('no-return');
    }
  });
  return [...found];
}

const PYTHON_KEYWORDS = new Set(`False None True and as assert async await break class continue def del elif else except finally for
from global if import in is lambda nonlocal not or pass raise return try while with yield match case print exec`.split(/\s+/));

const PYTHON_BUILTINS = new Set(`abs aiter all anext any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex
copyright credits delattr dict dir divmod enumerate eval exit filter float format frozenset getattr globals hasattr hash help hex id
input int isinstance issubclass iter len license list locals map max memoryview min next object oct open ord pow property quit range
repr reversed round set setattr slice sorted staticmethod str sum super tuple type vars zip __import__ __name__ __file__ __doc__
__builtins__ __debug__ NotImplemented Ellipsis self cls BaseException BaseExceptionGroup Exception ExceptionGroup ArithmeticError
AssertionError AttributeError BlockingIOError BrokenPipeError BufferError BytesWarning ChildProcessError ConnectionAbortedError
ConnectionError ConnectionRefusedError ConnectionResetError DeprecationWarning EOFError EncodingWarning EnvironmentError
FileExistsError FileNotFoundError FloatingPointError FutureWarning GeneratorExit IOError ImportError ImportWarning IndentationError
IndexError InterruptedError IsADirectoryError KeyError KeyboardInterrupt LookupError MemoryError ModuleNotFoundError NameError
NotADirectoryError NotImplementedError OSError OverflowError PendingDeprecationWarning PermissionError ProcessLookupError
RecursionError ReferenceError ResourceWarning RuntimeError RuntimeWarning StopAsyncIteration StopIteration SyntaxError
SyntaxWarning SystemError SystemExit TabError TimeoutError TypeError UnboundLocalError UnicodeDecodeError UnicodeEncodeError
UnicodeError UnicodeTranslateError UnicodeWarning UserWarning ValueError Warning ZeroDivisionError`.split(/\s+/));

const IDENTIFIER = /[A-Za-z_][\w]*/g;

/** Identifiers of a piece of a logical line that are not attributes (`.x`) and not keywords. */
function namesIn(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(IDENTIFIER)) {
    const before = text[m.index - 1];
    if (before === '.' || (before !== undefined && /[\w]/.test(before)) || PYTHON_KEYWORDS.has(m[0])) {
      continue;
    }
    names.push(m[0]);
  }
  return names;
}

/** The parts of a line split at its top-level `=` signs (not `==`, `<=`, `>=`, `!=`, `:=`, nor inside brackets). */
function assignmentParts(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(' || ch === '[' || ch === '{') {
      depth++;
    } else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
    } else if (ch === '=' && depth === 0 && text[i + 1] !== '=' && !/[=<>!:+\-*/%&|^@]/.test(text[i - 1] ?? '')) {
      parts.push(text.slice(start, i));
      start = i + 1;
    } else if (ch === '=' && depth === 0 && /[+\-*/%&|^@]/.test(text[i - 1] ?? '') && text[i + 1] !== '=') {
      // `x += 1`: x must exist already; nothing is defined here.
      return [text];
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Names a Python answer reads that nothing defines: not a builtin, not assigned, imported or defined
 * anywhere in the answer (scopes are not told apart, so this errs towards silence; a star import
 * silences it), and not a word of `known` (the question, whose code the answer may build on).
 * Calling `is_prime` without writing it, or `math.sqrt` without `import math`, raises NameError
 * when the code runs.
 */
export function undefinedNames(code: string, known = ''): string[] {
  const { lines, unterminatedString } = scan(code, PYTHON);
  if (unterminatedString) {
    return [];
  }
  const defined = new Set<string>(PYTHON_BUILTINS);
  for (const word of known.match(IDENTIFIER) ?? []) {
    defined.add(word);
  }
  const define = (names: Iterable<string>) => {
    for (const n of names) {
      defined.add(n);
    }
  };
  const reads: string[] = [];
  for (const { text: raw } of lines) {
    const text = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(?:async\s+)?def\s+(\w+)\s*\((.*)\)/.exec(text))) {
      define([m[1], ...namesIn(m[2])]);
      continue;
    }
    if ((m = /^class\s+(\w+)/.exec(text))) {
      define([m[1]]);
      reads.push(...namesIn(text.slice(m[0].length)));
      continue;
    }
    if ((m = /^import\s+(.*)$/.exec(text))) {
      define(m[1].split(',').map((part) => (/\bas\s+(\w+)/.exec(part)?.[1] ?? part.trim().split('.')[0])));
      continue;
    }
    if ((m = /^from\s+\S+\s+import\s+(.*)$/.exec(text))) {
      if (m[1].trim() === '*') {
        return []; // a star import may define any name
      }
      define(m[1].replace(/[()]/g, '').split(',').map((part) => (/\bas\s+(\w+)/.exec(part)?.[1] ?? part.trim())));
      continue;
    }
    if ((m = /^(?:global|nonlocal)\s+(.*)$/.exec(text))) {
      define(namesIn(m[1]));
      continue;
    }
    for (const a of text.matchAll(/\b(?:as)\s+(\w+)/g)) {
      define([a[1]]);
    }
    for (const a of text.matchAll(/\bfor\s+(.+?)\s+in\b/g)) {
      define(namesIn(a[1]));
    }
    for (const a of text.matchAll(/\blambda\b([^:]*):/g)) {
      define(namesIn(a[1]));
    }
    for (const a of text.matchAll(/(\w+)\s*:=/g)) {
      define([a[1]]);
    }
    const parts = assignmentParts(text);
    for (const target of parts.slice(0, -1)) {
      // Bound: `a, b = ...`, `(a, b) = ...`, `x: int = ...`; a subscript's index is read, not bound (`d[k] = ...`).
      define(namesIn(target.replace(/:[^=]*$/, '').replace(/\[[^\]]*\]/g, ' ').replace(/[()]/g, ' ')));
    }
    // Keyword arguments (`f(key=1)`) name parameters, not variables.
    reads.push(...namesIn(text.replace(/([(,]\s*)\w+\s*=(?!=)/g, '$1')));
  }
  return [...new Set(reads.filter((n) => !defined.has(n)))];
}

/** The defects of a code answer (empty when it looks whole); the language is the fence's, if any. */
export function codeDefects(code: string, fenceLanguage?: string, question = ''): CodeDefect[] {
  const found: CodeDefect[] = [];
  if (RUNAWAY.test(code)) {
    found.push('runaway');
  }
  const language = codeLanguage(code, fenceLanguage);
  const scanned = scan(code, lexiconOf(language));
  if (scanned.unbalanced) {
    found.push('unbalanced');
  }
  if (scanned.unterminatedString) {
    found.push('unterminated-string');
  }
  if (language === 'python' && !scanned.unterminatedString) {
    found.push(...pythonDefects(scanned.lines));
    if (undefinedNames(code, question).length > 0) {
      found.push('undefined-name');
    }
  }
  return found;
}
