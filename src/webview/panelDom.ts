/**
 * The panel's DOM: built once, then each render touches only the sections whose part of the view
 * changed (parts keep their identity when unchanged). Reasoning text is appended as text nodes;
 * markdown is parsed only when an answer arrives or a collapsed chain is opened.
 */
import { formatTokens } from '../core/tokens/amountText';
import type { ProgressiveAnswer, RunView } from '../core/view/runView';
import { purposeLabel } from '../core/view/runView';
import {
  STRATEGY_LABELS, answerMeta, anytimeIndexText, budgetLegend, exactTokens, headerParts, modelCostRows, modelOrder, percent,
  showsModels, spendText, statusText, type ModelCostRow,
} from '../core/view/runViewText';
import type { FromWebviewMessage, NoticeLevel } from '../protocol';
import { RERUN_STRATEGIES } from '../protocol';
import { drawCurve } from './curveSvg';
import { byId, h } from './dom';
import { renderAnswer, renderMarkdown } from './markdown';
import { isSafeHref } from './sanitize';

/** What changed in the reasoning text since the last render. */
export interface ReasoningDomChange {
  reset: boolean;
  append: string;
}

/** Live reasoning is kept in blocks of about this many characters (see appendReasoning). */
const REASONING_BLOCK_CHARS = 2048;

/** Questions longer than this start collapsed. */
const LONG_QUESTION_CHARS = 280;

const SEGMENTS = ['estimate', 'attempt', 'forced-answer', 'other', 'reasoning', 'in-flight'] as const;

/** Badge colours: a model's place in the ladder, cycling (see .model-badge[data-tier] in panel.css). */
const TIER_COLOURS = 6;

export class PanelDom {
  private readonly els: {
    question: HTMLElement; meta: HTMLElement; caps: HTMLElement;
    spend: HTMLElement; status: HTMLElement; bar: HTMLElement; legend: HTMLElement;
    segments: Record<(typeof SEGMENTS)[number], HTMLElement>;
    modelCosts: HTMLElement; modelCostsHead: HTMLElement; modelCostsBody: HTMLElement; modelCostsTotal: HTMLElement;
    answerModel: HTMLElement; reasoningModel: HTMLElement;
    stop: HTMLButtonElement; cont: HTMLButtonElement; copy: HTMLButtonElement; insert: HTMLButtonElement;
    replace: HTMLButtonElement; rerun: HTMLButtonElement; rerunStrategy: HTMLSelectElement; spendReport: HTMLButtonElement;
    continueForm: HTMLElement; continueTokens: HTMLInputElement; notice: HTMLElement;
    answer: HTMLElement; answerMeta: HTMLElement; answerChain: HTMLDetailsElement; answerChainBody: HTMLElement;
    curveSection: HTMLElement; curve: SVGSVGElement; anytimeIndex: HTMLElement;
    answersTitle: HTMLElement; answers: HTMLOListElement;
    reasoningSection: HTMLDetailsElement; reasoningTitle: HTMLElement; reasoning: HTMLElement; attempts: HTMLElement;
  };
  private view: RunView | undefined;
  /** Which answer the open chain body shows; -1 = not rendered. */
  private chainShown = -1;
  private stickToBottom = true;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private curveWidth = 0;
  /** Whether answers and attempts carry model badges (a run over several models); see showsModels. */
  private modelsShown = false;
  /** Each model's place in the ladder, for its badge colour. */
  private tiers = new Map<string, number>();

  constructor(private readonly root: HTMLElement, private readonly post: (m: FromWebviewMessage) => void) {
    root.replaceChildren(this.skeleton());
    const $ = <T extends HTMLElement | SVGElement = HTMLElement>(id: string) => byId<T>(root, id);
    this.els = {
      question: $('question'), meta: $('meta'), caps: $('caps'),
      spend: $('spend'), status: $('status'), bar: $('budget-bar'), legend: $('budget-legend'),
      segments: Object.fromEntries(SEGMENTS.map((s) => [s, $(`segment-${s}`)])) as Record<(typeof SEGMENTS)[number], HTMLElement>,
      modelCosts: $('model-costs'), modelCostsHead: $('model-costs-head'), modelCostsBody: $('model-costs-body'), modelCostsTotal: $('model-costs-total'),
      answerModel: $('answer-model'), reasoningModel: $('reasoning-model'),
      stop: $('stop'), cont: $('continue'), copy: $('copy'), insert: $('insert'), replace: $('replace'),
      rerun: $('rerun'), rerunStrategy: $('rerun-strategy'), spendReport: $('spend-report'),
      continueForm: $('continue-form'), continueTokens: $('continue-tokens'), notice: $('notice'),
      answer: $('answer'), answerMeta: $('answer-meta'), answerChain: $('answer-chain'), answerChainBody: $('answer-chain-body'),
      curveSection: $('curve-section'), curve: $<SVGSVGElement>('curve'), anytimeIndex: $('anytime-index'),
      answersTitle: $('answers-title'), answers: $('answers'),
      reasoningSection: $('reasoning-section'), reasoningTitle: $('reasoning-title'), reasoning: $('reasoning'), attempts: $('attempts'),
    };
    this.wire();
  }

  private skeleton(): DocumentFragment {
    const button = (id: string, label: string, cls = 'secondary', title?: string) =>
      h('button', { id, type: 'button', class: `button ${cls}`, title }, label);
    const segment = (key: string) => h('div', { id: `segment-${key}`, class: `segment segment-${key}` });
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.id = 'curve';
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'Best-so-far confidence against tokens spent');
    const fragment = document.createDocumentFragment();
    fragment.append(
      h('header', { class: 'run-header' },
        h('div', { id: 'question', class: 'question' }),
        h('div', { id: 'meta', class: 'meta' }),
        h('div', { id: 'caps', class: 'meta caps' })),
      h('section', { class: 'budget', 'aria-label': 'Budget' },
        h('div', { class: 'budget-line' },
          h('span', { id: 'spend', class: 'spend' }),
          h('span', { id: 'status', class: 'status' })),
        h('div', { id: 'budget-bar', class: 'budget-bar', role: 'meter', 'aria-valuemin': 0, 'aria-label': 'Tokens spent of the budget' },
          ...SEGMENTS.map(segment)),
        h('div', { id: 'budget-legend', class: 'legend' }),
        h('div', { id: 'model-costs', class: 'model-costs', hidden: true },
          h('table', { class: 'model-cost-table', 'aria-labelledby': 'model-costs-title' },
            h('caption', { id: 'model-costs-title', class: 'section-title' }, 'Cost by model'),
            h('thead', { id: 'model-costs-head' }),
            h('tbody', { id: 'model-costs-body' }),
            h('tfoot', { id: 'model-costs-total' })))),
      h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Run actions' },
        button('stop', 'Stop', 'primary', 'Stop the run; the best answer so far stays'),
        button('continue', 'Continue…', 'secondary', 'Continue this run with more budget'),
        button('copy', 'Copy answer'),
        button('insert', 'Insert at cursor'),
        button('replace', 'Replace selection'),
        h('span', { class: 'rerun-group' },
          h('label', { for: 'rerun-strategy', class: 'visually-hidden' }, 'Strategy for the re-run'),
          h('select', { id: 'rerun-strategy', class: 'dropdown' },
            ...RERUN_STRATEGIES.map((s) => h('option', { value: s }, STRATEGY_LABELS[s] ?? s))),
          button('rerun', 'Re-run')),
        button('spend-report', 'Open spend report', 'secondary link-like')),
      h('div', { id: 'continue-form', class: 'continue-form', hidden: true, role: 'group', 'aria-label': 'Continue with more budget' },
        h('label', { for: 'continue-tokens' }, 'Extra tokens'),
        h('input', { id: 'continue-tokens', class: 'input', type: 'number', min: 1, step: 1, inputmode: 'numeric' }),
        button('continue-confirm', 'Continue', 'primary'),
        button('continue-cancel', 'Cancel')),
      h('div', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite' }),
      h('section', { class: 'current', 'aria-labelledby': 'current-title' },
        h('div', { class: 'section-head' },
          h('h2', { id: 'current-title', class: 'section-title' }, 'Best answer'),
          h('span', { id: 'answer-model', class: 'model-badge', hidden: true }),
          h('span', { id: 'answer-meta', class: 'description' })),
        h('div', { id: 'answer', class: 'answer placeholder', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, 'No answer yet'),
        h('details', { id: 'answer-chain', class: 'chain' },
          h('summary', {}, 'Chain behind this answer'),
          h('div', { id: 'answer-chain-body', class: 'markdown' }))),
      h('section', { id: 'curve-section', class: 'curve-section', 'aria-labelledby': 'curve-title' },
        h('div', { class: 'section-head' },
          h('h2', { id: 'curve-title', class: 'section-title' }, 'Anytime curve'),
          h('span', { id: 'anytime-index', class: 'anytime-index', title: 'Normalised area under the best-so-far confidence curve: higher means good answers came earlier' })),
        svg),
      h('section', { class: 'history', 'aria-labelledby': 'answers-title' },
        h('div', { class: 'section-head' }, h('h2', { id: 'answers-title', class: 'section-title' }, 'Progressive answers')),
        h('ol', { id: 'answers', class: 'answers' })),
      h('details', { id: 'reasoning-section', class: 'reasoning-section', open: true },
        h('summary', {},
          h('span', { id: 'reasoning-title', class: 'section-title' }, 'Reasoning'),
          h('span', { id: 'reasoning-model', class: 'model-badge', hidden: true })),
        h('pre', { id: 'reasoning', class: 'reasoning', tabindex: 0, 'aria-label': 'Live reasoning of the current attempt' }),
        h('ol', { id: 'attempts', class: 'attempts', 'aria-label': 'Attempts' })),
    );
    return fragment;
  }

  private wire(): void {
    const e = this.els;
    e.stop.addEventListener('click', () => this.post({ type: 'stop' }));
    e.cont.addEventListener('click', () => this.openContinue());
    byId(this.root, 'continue-confirm').addEventListener('click', () => this.confirmContinue());
    byId(this.root, 'continue-cancel').addEventListener('click', () => this.closeContinue());
    e.continueTokens.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.confirmContinue();
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        this.closeContinue();
      }
    });
    e.copy.addEventListener('click', () => this.post({ type: 'copy' }));
    e.insert.addEventListener('click', () => this.post({ type: 'insert', mode: 'cursor' }));
    e.replace.addEventListener('click', () => this.post({ type: 'insert', mode: 'replace' }));
    e.rerun.addEventListener('click', () => {
      const strategy = RERUN_STRATEGIES.find((s) => s === e.rerunStrategy.value);
      if (strategy) {
        this.post({ type: 'rerun', strategy });
      }
    });
    e.spendReport.addEventListener('click', () => this.post({ type: 'openSpendReport' }));
    e.reasoning.addEventListener('scroll', () => {
      const r = e.reasoning;
      this.stickToBottom = r.scrollTop + r.clientHeight >= r.scrollHeight - 8;
    }, { passive: true });
    e.answerChain.addEventListener('toggle', () => this.renderChain());
    // Per-item buttons and chains in the history list, by delegation.
    e.answers.addEventListener('click', (ev) => {
      const target = ev.target as Element;
      const item = target.closest<HTMLElement>('.answer-item');
      const index = Number(item?.dataset.index);
      if (!item || !Number.isInteger(index)) {
        return;
      }
      if (target.closest('.item-copy')) {
        this.post({ type: 'copy', answerIndex: index });
      } else if (target.closest('.item-insert')) {
        this.post({ type: 'insert', mode: 'cursor', answerIndex: index });
      }
    });
    e.answers.addEventListener('toggle', (ev) => {
      const details = ev.target as HTMLDetailsElement;
      const item = details.closest<HTMLElement>('.answer-item');
      const answer = this.view?.answers[Number(item?.dataset.index)];
      if (details.open && answer && !details.dataset.rendered) {
        details.dataset.rendered = 'true';
        details.querySelector('.markdown')?.replaceChildren(renderMarkdown(answer.text));
      }
    }, true);
    // Links in model output never navigate the panel: http(s) goes to the host, which asks VS Code to open it.
    const onLink = (ev: MouseEvent) => {
      const a = (ev.target as Element | null)?.closest?.('a');
      if (!a) {
        return;
      }
      ev.preventDefault();
      const href = a.getAttribute('href');
      if (ev.type === 'click' && href && isSafeHref(href) && /^https?:/i.test(href.trim())) {
        this.post({ type: 'openLink', href: href.trim() });
      }
    };
    this.root.addEventListener('click', onLink);
    this.root.addEventListener('auxclick', onLink);
    new ResizeObserver(() => {
      const width = e.curveSection.clientWidth;
      if (this.view && Math.abs(width - this.curveWidth) > 4) {
        this.renderCurve(this.view);
      }
    }).observe(e.curveSection);
  }

  /** Updates the sections whose parts differ from `prev` (all of them without a prev). */
  render(view: RunView, prev: RunView | undefined, reasoning: ReasoningDomChange | undefined): void {
    this.view = view;
    this.root.removeAttribute('aria-busy');
    // Model badges come and go together: when the run turns out to span models, the labelled parts are redrawn.
    let modelsChanged = false;
    if (!prev || prev.header !== view.header || prev.budget.byModel !== view.budget.byModel || prev.attempts !== view.attempts || prev.answers !== view.answers) {
      const shown = showsModels(view);
      const order = shown ? modelOrder(view) : [];
      modelsChanged = shown !== this.modelsShown || order.length !== this.tiers.size || order.some((m, i) => this.tiers.get(m) !== i);
      this.modelsShown = shown;
      this.tiers = new Map(order.map((m, i) => [m, i]));
    }
    if (modelsChanged) {
      // Drawn again from scratch below, with or without badges.
      prev = prev && { ...prev, answers: [], attempts: [], budget: { ...prev.budget, byModel: [] } };
      this.els.answers.replaceChildren();
    }
    if (!prev || prev.header !== view.header || prev.budget.estimate !== view.budget.estimate) {
      this.renderHeader(view, !prev || prev.header.question !== view.header.question);
    }
    if (!prev || prev.budget !== view.budget || prev.header !== view.header) {
      this.renderBudget(view);
    }
    if (!prev || prev.budget.byModel !== view.budget.byModel || prev.header.providerBillsInDollars !== view.header.providerBillsInDollars) {
      this.renderModelCosts(view);
    }
    if (!prev || prev.status !== view.status || prev.header !== view.header) {
      this.els.status.textContent = statusText(view.status, view.header.providerBillsInDollars);
      this.els.status.dataset.state = view.status.state;
      this.els.status.dataset.reason = view.status.reason ?? '';
    }
    if (!prev || prev.status !== view.status || prev.answers !== view.answers) {
      this.renderActions(view);
    }
    if (!prev || prev.answers !== view.answers) {
      if (!prev) {
        this.chainShown = -1;
      }
      this.renderCurrent(view);
      this.renderHistory(view, prev);
    }
    if (!prev || prev.curve !== view.curve || prev.budget.budgetTokens !== view.budget.budgetTokens) {
      this.renderCurve(view);
    }
    if (!prev || modelsChanged || prev.reasoning.attempt !== view.reasoning.attempt || prev.reasoning.purpose !== view.reasoning.purpose) {
      const r = view.reasoning;
      this.els.reasoningTitle.textContent = r.attempt === null ? 'Reasoning' : `Reasoning · attempt ${r.attempt}${r.purpose ? `: ${purposeLabel(r.purpose)}` : ''}`;
      const model = r.attempt === null ? undefined : view.attempts.find((a) => a.attempt === r.attempt)?.model;
      this.setBadge(this.els.reasoningModel, model);
    }
    if (!prev || reasoning) {
      this.renderReasoning(view, !prev || !reasoning || reasoning.reset, reasoning?.append ?? '');
    }
    if (!prev || prev.attempts !== view.attempts) {
      this.renderAttempts(view);
    }
  }

  notice(level: NoticeLevel, text: string): void {
    const n = this.els.notice;
    n.textContent = text;
    n.dataset.level = level;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      n.textContent = '';
    }, level === 'info' ? 4000 : 10000);
  }

  private renderHeader(view: RunView, questionChanged: boolean): void {
    const e = this.els;
    if (questionChanged) {
      const q = view.header.question;
      const body = h('div', { class: 'markdown question-body' });
      body.append(renderMarkdown(q));
      if (q.length > LONG_QUESTION_CHARS || q.split('\n').length > 4) {
        const first = q.replace(/\s+/g, ' ').trim().slice(0, 120);
        e.question.replaceChildren(h('details', { class: 'question-details' },
          h('summary', { class: 'question-summary' }, `${first}…`), body));
      } else {
        e.question.replaceChildren(body);
      }
    }
    e.meta.replaceChildren(...joinParts(headerParts(view)));
    const caps = view.header.caps;
    e.caps.textContent = caps.length ? `Caps: ${caps.join(' · ')}` : '';
    e.caps.hidden = caps.length === 0;
    if (view.budget.estimate?.note) {
      e.meta.title = view.budget.estimate.note;
    }
  }

  private renderBudget(view: RunView): void {
    const e = this.els;
    const b = view.budget;
    e.spend.textContent = spendText(b, view.header.providerBillsInDollars);
    const used = b.spentTokens + b.inFlightTokens;
    const total = Math.max(b.budgetTokens ?? 0, used, 1);
    const values: Record<(typeof SEGMENTS)[number], number> = {
      estimate: b.byPurpose.estimate, attempt: b.byPurpose.attempt, 'forced-answer': b.byPurpose['forced-answer'],
      other: b.byPurpose.other, reasoning: b.reasoningTokens, 'in-flight': b.inFlightTokens,
    };
    for (const key of SEGMENTS) {
      // CSSOM, not style attributes: the CSP allows the former only.
      e.segments[key].style.width = `${(100 * values[key]) / total}%`;
    }
    e.bar.classList.toggle('over', b.budgetTokens !== null && b.spentTokens > b.budgetTokens);
    e.bar.setAttribute('aria-valuemax', String(b.budgetTokens ?? used));
    e.bar.setAttribute('aria-valuenow', String(b.spentTokens));
    e.bar.setAttribute('aria-valuetext', e.spend.textContent);
    e.legend.replaceChildren(...budgetLegend(b).map((row) =>
      h('span', { class: 'legend-item' }, h('span', { class: `swatch segment-${row.key}`, 'aria-hidden': 'true' }), `${row.label} ${exactTokens(row.tokens)}`)));
  }

  private renderActions(view: RunView): void {
    const e = this.els;
    const running = view.status.state === 'running';
    const hasAnswer = view.answers.length > 0;
    e.stop.hidden = !running;
    e.cont.disabled = running || view.status.state === 'interrupted';
    for (const b of [e.copy, e.insert, e.replace]) {
      b.disabled = !hasAnswer;
    }
    // One primary button at a time, as VS Code does: Stop while running, then Continue if the budget ran out.
    const wantsMore = view.status.reason === 'budget-exhausted' || view.status.reason === 'stopped';
    e.cont.classList.toggle('primary', !running && wantsMore && view.status.state === 'finished');
    e.cont.classList.toggle('secondary', !(!running && wantsMore && view.status.state === 'finished'));
    e.copy.classList.toggle('primary', !running && !wantsMore && hasAnswer);
    e.copy.classList.toggle('secondary', !(!running && !wantsMore && hasAnswer));
    if (running) {
      this.closeContinue();
    }
    if (e.rerunStrategy.dataset.initialised !== 'true') {
      e.rerunStrategy.value = RERUN_STRATEGIES.find((s) => s !== view.header.strategy) ?? 'single';
      e.rerunStrategy.dataset.initialised = 'true';
    }
  }

  private renderCurrent(view: RunView): void {
    const e = this.els;
    const best = view.answers[view.answers.length - 1];
    if (!best) {
      e.answer.classList.add('placeholder');
      e.answer.textContent = 'No answer yet';
      e.answer.removeAttribute('data-answer');
      e.answerMeta.textContent = '';
      e.answerChain.hidden = true;
      this.setBadge(e.answerModel, undefined);
      return;
    }
    e.answer.classList.remove('placeholder');
    e.answer.dataset.answer = best.answer;
    e.answer.dataset.confidence = best.confidence.toFixed(3);
    e.answer.replaceChildren(renderAnswer(best.answer));
    e.answerMeta.textContent = answerMeta(best);
    this.setBadge(e.answerModel, best.model);
    e.answerChain.hidden = !best.text;
    this.renderChain();
  }

  /** The current answer's chain is parsed only while its section is open. */
  private renderChain(): void {
    const view = this.view;
    const e = this.els;
    if (!view || !e.answerChain.open) {
      return;
    }
    const index = view.answers.length - 1;
    if (index >= 0 && index !== this.chainShown) {
      this.chainShown = index;
      e.answerChainBody.replaceChildren(renderMarkdown(view.answers[index].text));
    }
  }

  private renderHistory(view: RunView, prev: RunView | undefined): void {
    const list = this.els.answers;
    const before = prev?.answers ?? [];
    const extends_ = before.length <= view.answers.length && before.every((a, i) => a === view.answers[i]) && list.children.length === before.length;
    if (!extends_) {
      list.replaceChildren();
    }
    const from = extends_ ? before.length : 0;
    for (let i = from; i < view.answers.length; i++) {
      list.prepend(this.historyItem(view.answers[i], i));
    }
    list.querySelector('.answer-item.latest')?.classList.remove('latest');
    list.firstElementChild?.classList.add('latest');
    this.els.answersTitle.textContent = `Progressive answers (${view.answers.length})`;
  }

  private historyItem(a: ProgressiveAnswer, index: number): HTMLLIElement {
    const answer = h('span', { class: 'item-answer' });
    answer.append(renderAnswer(a.answer));
    return h('li', {
      class: `answer-item${a.changed ? ' changed' : ''}`,
      'data-index': index, 'data-tokens': a.tokensSoFar, 'data-confidence': a.confidence.toFixed(3),
    },
    h('div', { class: 'item-row' },
      h('span', { class: 'item-number', 'aria-hidden': 'true' }, String(index + 1)),
      answer,
      this.badge(a.model),
      h('span', { class: 'confidence-pill', title: 'confidence' }, percent(a.confidence)),
      h('span', { class: 'item-actions' },
        h('button', { type: 'button', class: 'text-button item-copy', 'aria-label': `Copy answer ${index + 1}` }, 'Copy'),
        h('button', { type: 'button', class: 'text-button item-insert', 'aria-label': `Insert answer ${index + 1} at cursor` }, 'Insert'))),
    a.text
      // The meta line is the chain's summary: one click shows the chain behind this answer.
      ? h('details', { class: 'chain item-chain' }, h('summary', { class: 'item-meta', title: 'Show the chain behind this answer' }, answerMeta(a)), h('div', { class: 'markdown' }))
      : h('div', { class: 'item-meta description' }, answerMeta(a)));
  }

  private renderCurve(view: RunView): void {
    const width = this.els.curveSection.clientWidth;
    this.curveWidth = width;
    drawCurve(this.els.curve, view.curve, view.budget.budgetTokens, width || 480);
    this.els.anytimeIndex.textContent = anytimeIndexText(view.curve.anytimeIndex);
    this.els.curveSection.classList.toggle('empty', view.curve.points.length === 0);
  }

  private renderReasoning(view: RunView, reset: boolean, append: string): void {
    const pre = this.els.reasoning;
    if (reset) {
      pre.replaceChildren();
      this.appendReasoning(view.reasoning.text);
    } else if (append) {
      this.appendReasoning(append);
    }
    if (this.stickToBottom && this.els.reasoningSection.open) {
      pre.scrollTop = pre.scrollHeight;
    }
  }

  /**
   * Appends text in blocks of a few KB cut at line ends: the browser then re-lays out only the last
   * block per frame, not the whole 64 KB chain.
   */
  private appendReasoning(text: string): void {
    const pre = this.els.reasoning;
    let block = pre.lastElementChild as HTMLElement | null;
    let rest = text;
    while (rest) {
      if (!block || block.dataset.full === 'true') {
        block = h('div', { class: 'reasoning-block' });
        pre.append(block);
      }
      const room = REASONING_BLOCK_CHARS - Number(block.dataset.chars ?? 0);
      let cut = rest.length;
      if (rest.length > room) {
        // End the block at a line end: the last one that fits, else the first one after.
        let newline = rest.lastIndexOf('\n', room);
        if (newline < 0) {
          newline = rest.indexOf('\n', Math.max(0, room));
        }
        if (newline >= 0) {
          cut = newline + 1;
          block.dataset.full = 'true';
        }
      }
      block.append(document.createTextNode(rest.slice(0, cut)));
      block.dataset.chars = String(Number(block.dataset.chars ?? 0) + cut);
      rest = rest.slice(cut);
    }
  }

  private renderAttempts(view: RunView): void {
    const rows = view.attempts.slice(-12).map((a) => {
      const outcome = a.finishReason === null ? 'streaming' : a.finishReason;
      const tokens = a.completionTokens !== null ? ` · ${formatTokens(a.completionTokens)} tokens` : ` · up to ${formatTokens(a.maxTokens)}`;
      const answer = a.answer !== null ? ` · → ${a.answer}` : '';
      return h('li', { class: `attempt attempt-${a.finishReason === null ? 'open' : 'done'}` },
        h('span', { class: 'attempt-text' }, `#${a.attempt} ${purposeLabel(a.purpose)} · ${outcome}${tokens}${answer}`),
        this.badge(a.model));
    });
    this.els.attempts.replaceChildren(...rows);
  }

  /**
   * The "Cost by model" table under the budget bar, for runs over several models. Model names are
   * untrusted text: they only ever go into text nodes and attribute values.
   */
  private renderModelCosts(view: RunView): void {
    const e = this.els;
    const show = this.modelsShown && view.budget.byModel.length > 0;
    e.modelCosts.hidden = !show;
    if (!show) {
      e.modelCostsHead.replaceChildren();
      e.modelCostsBody.replaceChildren();
      e.modelCostsTotal.replaceChildren();
      return;
    }
    const dollars = view.header.providerBillsInDollars;
    const { rows, total } = modelCostRows(view.budget, dollars);
    const th = (text: string, cls: string) => h('th', { scope: 'col', class: cls }, text);
    e.modelCostsHead.replaceChildren(h('tr', {},
      th('Model', 'col-model'), th('Calls', 'num'), th('Tokens in', 'num'), th('Tokens out', 'num'), dollars && th('Cost', 'num')));
    const tr = (r: ModelCostRow, cls: string, name: Node | string) => h('tr', { class: cls, 'data-model': cls === 'model-row' ? r.model : undefined },
      h('th', { scope: 'row', class: 'col-model' }, name),
      h('td', { class: 'num' }, r.calls), h('td', { class: 'num' }, r.tokensIn), h('td', { class: 'num' }, r.tokensOut),
      r.dollars !== undefined && h('td', { class: `num${r.dollars.includes('unpriced') ? ' unpriced' : ''}` }, r.dollars));
    e.modelCostsBody.replaceChildren(...rows.map((r) => tr(r, 'model-row', this.badge(r.model) ?? r.model)));
    e.modelCostsTotal.replaceChildren(...(total ? [tr(total, 'total-row', document.createTextNode(total.model))] : []));
  }

  /** A model's badge (its name as text, its ladder place as a colour), or nothing for a single-model run. */
  private badge(model: string | undefined): HTMLElement | null {
    if (!this.modelsShown || model === undefined) {
      return null;
    }
    const el = h('span', { class: 'model-badge' });
    this.setBadge(el, model);
    return el;
  }

  private setBadge(el: HTMLElement, model: string | undefined): void {
    if (!this.modelsShown || model === undefined) {
      el.hidden = true;
      el.textContent = '';
      return;
    }
    el.hidden = false;
    el.textContent = model;
    el.title = `model: ${model}`;
    const tier = this.tiers.get(model);
    el.dataset.tier = tier === undefined ? '' : String(tier % TIER_COLOURS);
  }

  private openContinue(): void {
    const view = this.view;
    const e = this.els;
    // Doubling the budget is the default: the same again.
    const proposal = Math.max(1, view?.budget.budgetTokens ?? view?.budget.spentTokens ?? 1000);
    e.continueTokens.value = String(proposal);
    e.continueForm.hidden = false;
    e.continueTokens.focus();
    e.continueTokens.select();
  }

  private confirmContinue(): void {
    const tokens = Math.floor(Number(this.els.continueTokens.value));
    if (!Number.isFinite(tokens) || tokens < 1) {
      this.notice('warning', 'Enter a whole number of tokens greater than 0.');
      this.els.continueTokens.focus();
      return;
    }
    this.post({ type: 'continue', extraTokens: tokens });
    this.closeContinue();
  }

  private closeContinue(): void {
    const e = this.els;
    if (!e.continueForm.hidden) {
      const hadFocus = e.continueForm.contains(document.activeElement);
      e.continueForm.hidden = true;
      if (hadFocus) {
        e.cont.focus();
      }
    }
  }
}

function joinParts(parts: string[]): Node[] {
  const nodes: Node[] = [];
  parts.forEach((p, i) => {
    if (i) {
      nodes.push(h('span', { class: 'sep', 'aria-hidden': 'true' }, ' · '));
    }
    nodes.push(h('span', { class: 'meta-part' }, p));
  });
  return nodes;
}
