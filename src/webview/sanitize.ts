/**
 * The only ways HTML reaches the panel's DOM. Model output is untrusted: every HTML string goes
 * through DOMPurify into a DocumentFragment, with hooks that keep links to plain web URLs.
 */
import DOMPurify, { type Config } from 'dompurify';

/** Tags a markdown answer never needs and that could load, submit, frame, restyle or re-base the page. */
const FORBIDDEN_TAGS = [
  'style', 'link', 'meta', 'base', 'img', 'picture', 'source', 'audio', 'video', 'track', 'iframe', 'frame',
  'frameset', 'object', 'embed', 'form', 'input', 'button', 'textarea', 'select', 'option', 'template',
  'dialog', 'svg', 'math', 'noscript', 'portal', 'slot',
];
const FORBIDDEN_ATTRS = ['style', 'target', 'srcset', 'action', 'formaction', 'ping', 'background', 'poster', 'xlink:href', 'autofocus', 'tabindex', 'popover'];

/** http(s) and mailto only; everything else (javascript:, data:, vbscript:, file:, command:) loses its href. */
export function isSafeHref(href: string): boolean {
  return /^(?:https?:\/\/|mailto:)/i.test(href.trim());
}

const markdownPurifier = DOMPurify(window);
markdownPurifier.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeName === 'A') {
    const href = node.getAttribute('href');
    if (href === null || !isSafeHref(href)) {
      node.removeAttribute('href');
    } else {
      node.setAttribute('title', href);
    }
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

const MARKDOWN_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: FORBIDDEN_TAGS,
  FORBID_ATTR: FORBIDDEN_ATTRS,
  // DOMPurify tests most attribute values against this: schemes other than http(s)/mailto fail;
  // scheme-less values (align="right", relative links) pass, and the hook above drops non-web hrefs.
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  ALLOW_DATA_ATTR: false,
  ADD_ATTR: ['data-br-math', 'data-br-code'],
  ADD_URI_SAFE_ATTR: ['data-br-math', 'data-br-code'],
  // Ids and names in model output get a prefix, so they can never shadow the panel's own (#answer …).
  SANITIZE_NAMED_PROPS: true,
  RETURN_DOM_FRAGMENT: true as const,
} satisfies Config;

/** Markdown's HTML (with our math placeholders) as a sanitized fragment. */
export function sanitizeMarkdownHtml(html: string): DocumentFragment {
  return markdownPurifier.sanitize(html, MARKDOWN_CONFIG);
}

const katexPurifier = DOMPurify(window);

const KATEX_CONFIG = {
  USE_PROFILES: { html: true, mathMl: true, svg: true },
  ADD_ATTR: ['data-br-style'],
  ADD_URI_SAFE_ATTR: ['data-br-style'],
  FORBID_TAGS: ['style', 'a', 'img', 'image', 'use', 'foreignObject', 'iframe', 'form', 'input', 'button', 'link', 'meta', 'base'],
  FORBID_ATTR: ['style', 'href', 'xlink:href', 'src', 'action', 'formaction', 'target'],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true as const,
} satisfies Config;

/** CSS properties KaTeX's layout uses; anything else in a style attribute is dropped. */
const KATEX_STYLE_PROPERTIES = new Set([
  'height', 'min-height', 'max-height', 'width', 'min-width', 'max-width', 'vertical-align', 'top', 'bottom', 'left', 'right',
  'margin-left', 'margin-right', 'margin-top', 'margin-bottom', 'padding-left', 'padding-right', 'padding-top', 'padding-bottom',
  'border-bottom-width', 'border-top-width', 'border-right-width', 'border-left-width', 'border-style', 'border-color',
  'border-right-style', 'border-left-style', 'border-top-style', 'border-bottom-style',
  'color', 'background-color', 'position', 'font-size', 'line-height', 'display',
]);

/**
 * KaTeX lays math out with style attributes, which the panel's CSP (no 'unsafe-inline') ignores.
 * Re-apply them through CSSOM, which CSP allows, keeping only layout properties and no url().
 */
function applyKatexStyles(root: DocumentFragment): void {
  for (const el of Array.from(root.querySelectorAll<HTMLElement | SVGElement>('[data-br-style]'))) {
    const declarations = el.getAttribute('data-br-style') ?? '';
    el.removeAttribute('data-br-style');
    for (const declaration of declarations.split(';')) {
      const colon = declaration.indexOf(':');
      if (colon < 0) {
        continue;
      }
      const property = declaration.slice(0, colon).trim().toLowerCase();
      const value = declaration.slice(colon + 1).trim();
      if (KATEX_STYLE_PROPERTIES.has(property) && !/url\s*\(|expression|[\\<>]/i.test(value)) {
        el.style.setProperty(property, value);
      }
    }
  }
}

/** KaTeX's HTML (rendered with trust: false) as a sanitized fragment with its layout styles applied. */
export function sanitizeKatexHtml(html: string): DocumentFragment {
  // Renamed before parsing so the browser never sees (and reports) a blocked inline style. KaTeX
  // escapes quotes in text, so ` style="` only ever matches its own attributes.
  const fragment = katexPurifier.sanitize(html.replace(/ style="/g, ' data-br-style="'), KATEX_CONFIG);
  applyKatexStyles(fragment);
  return fragment;
}

const highlightPurifier = DOMPurify(window);

/** highlight.js's classes: a scope (hljs-keyword, hljs-title) or a sub-scope's suffix (function_, class_). */
const HIGHLIGHT_CLASS = /^(?:hljs-[a-z][a-z0-9-]*|[a-z][a-z0-9]*_+)$/;

highlightPurifier.addHook('afterSanitizeAttributes', (node) => {
  const cls = node.getAttribute('class');
  if (cls === null) {
    return;
  }
  const kept = cls.split(/\s+/).filter((c) => HIGHLIGHT_CLASS.test(c));
  if (kept.length) {
    node.setAttribute('class', kept.join(' '));
  } else {
    node.removeAttribute('class');
  }
});

const HIGHLIGHT_CONFIG = {
  ALLOWED_TAGS: ['span'],
  ALLOWED_ATTR: ['class'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  KEEP_CONTENT: true,
  RETURN_DOM_FRAGMENT: true as const,
} satisfies Config;

/**
 * highlight.js's HTML for a code block as a sanitized fragment: text in spans with hljs classes,
 * nothing else (any other element is dropped with its text kept, any other attribute or class removed).
 */
export function sanitizeHighlightHtml(html: string): DocumentFragment {
  return highlightPurifier.sanitize(html, HIGHLIGHT_CONFIG);
}
