/**
 * Code blocks as the panel shows them: a head with the language and, in answers, Copy and Insert
 * buttons that name the block by its index in fencedBlocks() of the answer's markdown (the host
 * copies or inserts its own copy of that block, never text from the page). The code is text; the
 * highlighter fills it in later (highlight.ts).
 */
import { fencedBlocks } from '../core/reasoning/answerKinds';
import { h } from './dom';
import { highlightLater } from './highlight';

/** A rendered block: `data-language` is what the fence said (maybe empty); the code is a text node. */
export function codeBlock(code: string, language: string | undefined, options: { fenced?: boolean } = {}): HTMLElement {
  const lang = (language ?? '').trim();
  const codeEl = h('code', { class: lang ? `language-${lang.replace(/[^\w+#.-]/g, '')}` : undefined }, code);
  const block = h('div', { class: 'code-block', 'data-language': lang, 'data-fenced': options.fenced === false ? 'false' : 'true' },
    h('div', { class: 'code-head' }, h('span', { class: 'code-lang' }, lang || 'code')),
    h('pre', {}, codeEl));
  highlightLater(codeEl, lang || undefined);
  return block;
}

/** The code of a block element from codeBlock (its text, also once highlighted). */
export function blockCode(block: Element): string {
  return block.querySelector('pre > code')?.textContent ?? '';
}

/**
 * Gives each fenced block in `container` (rendered from `markdown`) Copy and Insert buttons for
 * answer `answerIndex`. Blocks are matched to fencedBlocks(markdown) in order by their code, so a
 * button names exactly the block the host will find; a block that does not match (indented code,
 * a fence inside a quote) gets none.
 */
export function addBlockActions(container: ParentNode, answerIndex: number, markdown: string): number {
  const blocks = fencedBlocks(markdown);
  let next = 0;
  let added = 0;
  for (const block of Array.from(container.querySelectorAll<HTMLElement>('.code-block[data-fenced="true"]'))) {
    const code = blockCode(block);
    let k = next;
    while (k < blocks.length && blocks[k].code !== code) {
      k++;
    }
    if (k >= blocks.length) {
      continue;
    }
    next = k + 1;
    setBlockActions(block, answerIndex, k);
    added++;
  }
  return added;
}

/** Copy and Insert for one block (index `block` of answer `answerIndex`); see PanelDom's click delegation. */
export function setBlockActions(block: HTMLElement, answerIndex: number, index: number): void {
  block.dataset.block = String(index);
  block.dataset.answerIndex = String(answerIndex);
  const head = block.querySelector('.code-head');
  head?.querySelector('.code-actions')?.remove();
  head?.append(h('span', { class: 'code-actions' },
    h('button', { type: 'button', class: 'text-button code-copy', title: 'Copy this block', 'aria-label': `Copy code block ${index + 1}` }, 'Copy'),
    h('button', { type: 'button', class: 'text-button code-insert', title: 'Insert this block at the cursor', 'aria-label': `Insert code block ${index + 1} at cursor` }, 'Insert')));
}
