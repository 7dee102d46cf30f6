/**
 * The panel's DOM: built once, then each render touches only the sections whose part of the view
 * changed (parts keep their identity when unchanged). Reasoning text is appended as text nodes;
 * markdown is parsed only when an answer arrives or a collapsed chain is opened.
 *
 * Answers render by kind: a short value as text or math, code as one highlighted block, prose as
 * markdown. Code blocks in answers carry Copy and Insert buttons that name the block by index.
 */
import { ANSWER_KINDS, type AnswerKind } from '../core/reasoning/answerKinds';
import type { RunList } from '../core/view/panelRuns';
import type { AttemptView, ProgressiveAnswer, RunView } from '../core/view/runView';
import { purposeLabel } from '../core/view/runView';
import { ThinkTagSplitter } from '../core/providers/thinkTags';
import {
  STRATEGY_LABELS, answerMeta, anytimeIndexText, budgetLegend, exactTokens, headerParts, modelCostRows, modelOrder, percent,
  showsModels, spendText, statusText, type ModelCostRow,
} from '../core/view/runViewText';
import type { FromWebviewMessage, NoticeLevel } from '../protocol';
import { RERUN_STRATEGIES } from '../protocol';
import { addBlockActions, codeBlock, setBlockActions } from './codeBlocks';
import { drawCurve } from './curveSvg';
import { byId, h } from './dom';
import { renderAnswer, renderChain, renderMarkdown } from './markdown';
import { attemptLine, looksLikeCode, previewLine } from './panelText';
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

/** How the panel names each answer kind ("Answer kind: code"). */
const KIND_LABELS: Record<AnswerKind, string> = { short: 'short value', code: 'code', prose: 'prose' };

const SEGMENTS = ['estimate', 'attempt', 'forced-answer', 'other', 'reasoning', 'in-flight'] as const;

/** Badge colours: a model's place in the ladder, cycling (see .model-badge[data-tier] in panel.css). */
const TIER_COLOURS = 6;

export class PanelDom {
  private readonly els: {
    runs: HTMLElement; question: HTMLElement; about: HTMLElement; meta: HTMLElement; caps: HTMLElement;
    answerKind: HTMLElement; rerunKind: HTMLSelectElement; rerunKindButton: HTMLButtonElement;
    spend: HTMLElement; status: HTMLElement; bar: HTMLElement; legend: HTMLElement;
    segments: Record<(typeof SEGMENTS)[number], HTMLElement>;
    modelCosts: HTMLElement; modelCostsHead: HTMLElement; modelCostsBody: HTMLElement; modelCostsTotal: HTMLElement;
    answerModel: HTMLElement; reasoningModel: HTMLElement;
    stop: HTMLButtonElement; cont: HTMLButtonElement; copy: HTMLButtonElement; insert: HTMLButtonElement;
    replace: HTMLButtonElement; rerun: HTMLButtonElement; rerunStrategy: HTMLSelectElement; rerunExamples: HTMLInputElement; spendReport: HTMLButtonElement;
    continueForm: HTMLElement; continueTokens: HTMLInputElement; notice: HTMLElement;
    answer: HTMLElement; answerMeta: HTMLElement; answerChain: HTMLDetailsElement; answerChainBody: HTMLElement;
    curveSection: HTMLElement; curve: SVGSVGElement; anytimeIndex: HTMLElement;
    answersTitle: HTMLElement; answers: HTMLOListElement;
    reasoningSection: HTMLDetailsElement; reasoningTitle: HTMLElement; reasoning: HTMLElement; attempts: HTMLElement;
  };
  private view: RunView | undefined;
  /** Which answer the open chain body shows; -1 = not rendered. */
  private chainShown = -1;
  /** The answer #answer shows: an unchanged best answer is not rendered again. */
  private currentShown: ProgressiveAnswer | undefined;
  /** Attempt rows by attempt number, with what each shows, so a render touches only rows that changed. */
  private attemptRows = new Map<number, { li: HTMLLIElement; key: string }>();
  private stickToBottom = true;
  /** Splits the live text into thinking and reply, across appends; renewed with each new attempt. */
  private thinkSplitter = new ThinkTagSplitter();
  /** The open "Thinking" block the live thinking goes to, while the attempt thinks. */
  private thinking: HTMLElement | undefined;
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
      runs: $('runs'), question: $('question'), about: $('about'), meta: $('meta'), caps: $('caps'),
      answerKind: $('answer-kind'), rerunKind: $('rerun-kind'), rerunKindButton: $('rerun-kind-button'),
      spend: $('spend'), status: $('status'), bar: $('budget-bar'), legend: $('budget-legend'),
      segments: Object.fromEntries(SEGMENTS.map((s) => [s, $(`segment-${s}`)])) as Record<(typeof SEGMENTS)[number], HTMLElement>,
      modelCosts: $('model-costs'), modelCostsHead: $('model-costs-head'), modelCostsBody: $('model-costs-body'), modelCostsTotal: $('model-costs-total'),
      answerModel: $('answer-model'), reasoningModel: $('reasoning-model'),
      stop: $('stop'), cont: $('continue'), copy: $('copy'), insert: $('insert'), replace: $('replace'),
      rerun: $('rerun'), rerunStrategy: $('rerun-strategy'), rerunExamples: $<HTMLInputElement>('rerun-examples'), spendReport: $('spend-report'),
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
        h('nav', { id: 'runs', class: 'runs', 'aria-label': 'Runs in this panel', hidden: true }),
        h('div', { id: 'question', class: 'question' }),
        h('div', { id: 'about', class: 'about', hidden: true }),
        h('div', { id: 'meta', class: 'meta' }),
        h('div', { id: 'caps', class: 'meta caps' }),
        h('div', { class: 'meta kind-line', role: 'group', 'aria-label': 'Answer kind' },
          h('span', { id: 'answer-kind', class: 'answer-kind' }),
          h('span', { class: 'sep', 'aria-hidden': 'true' }, ' · '),
          h('button', { id: 'rerun-kind-button', type: 'button', class: 'text-button', title: 'Run the question again, asking for another kind of answer' }, 'Re-run as'),
          h('label', { for: 'rerun-kind', class: 'visually-hidden' }, 'Answer kind for the re-run'),
          h('select', { id: 'rerun-kind', class: 'dropdown dropdown-small' },
            ...ANSWER_KINDS.map((k) => h('option', { value: k }, KIND_LABELS[k]))))),
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
        h('label', { class: 'rerun-examples', title: 'Re-run with up to two of your own preference pairs before the question (their tokens count in the budget)' },
          h('input', { id: 'rerun-examples', type: 'checkbox' }), 'with preference examples'),
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
        this.post({ type: 'rerun', strategy, preferenceExamples: e.rerunExamples.checked });
      }
    });
    e.rerunKindButton.addEventListener('click', () => {
      const answerKind = ANSWER_KINDS.find((k) => k === e.rerunKind.value);
      const strategy = this.view && RERUN_STRATEGIES.find((s) => s === this.view?.header.strategy);
      // A cascade is not re-run from the panel: the kind re-run uses the strategy picked beside Re-run.
      const chosen = strategy ?? RERUN_STRATEGIES.find((s) => s === e.rerunStrategy.value);
      if (answerKind && chosen) {
        this.post({ type: 'rerun', strategy: chosen, answerKind, preferenceExamples: e.rerunExamples.checked });
      }
    });
    e.spendReport.addEventListener('click', () => this.post({ type: 'openSpendReport' }));
    e.runs.addEventListener('click', (ev) => {
      const chip = (ev.target as Element).closest?.<HTMLElement>('.run-chip');
      const runId = chip?.dataset.runId;
      if (runId && chip.getAttribute('aria-current') !== 'true') {
        this.post({ type: 'showRun', runId });
      }
    });
    // Copy and Insert of one code block of an answer: the host copies its own text of that block.
    this.root.addEventListener('click', (ev) => {
      const target = ev.target as Element;
      const button = target.closest?.('.code-copy, .code-insert');
      const block = button?.closest<HTMLElement>('.code-block[data-block]');
      const answerIndex = Number(block?.dataset.answerIndex);
      const index = Number(block?.dataset.block);
      if (!button || !block || !Number.isInteger(answerIndex) || !Number.isInteger(index)) {
        return;
      }
      this.post(button.classList.contains('code-copy')
        ? { type: 'copy', answerIndex, block: index }
        : { type: 'insert', mode: 'cursor', answerIndex, block: index });
    });
    // The code a question is about, and each attempt's text, are built only when opened.
    e.about.addEventListener('toggle', (ev) => {
      const details = ev.target as HTMLDetailsElement;
      const context = this.view?.header.context;
      const body = details.querySelector('.about-body');
      if (details.open && context && body && !body.firstChild) {
        body.append(codeBlock(context.code, context.languageId));
      }
    }, true);
    e.attempts.addEventListener('toggle', (ev) => {
      const details = ev.target as HTMLDetailsElement;
      const li = details.closest<HTMLElement>('.attempt');
      const attempt = this.view?.attempts.find((a) => String(a.attempt) === li?.dataset.attempt);
      const body = details.querySelector('.attempt-body');
      if (details.open && attempt?.text !== undefined && body && details.dataset.rendered !== 'true') {
        details.dataset.rendered = 'true';
        body.replaceChildren(attempt.text ? renderChain(attempt.text) : h('p', { class: 'description' }, 'This attempt wrote no text.'));
      }
    }, true);
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
        details.querySelector('.markdown')?.replaceChildren(renderChain(answer.text));
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
    if (this.view && this.view.header.runId !== view.header.runId) {
      // Another run of the panel: nothing of the one shown before stays (its open rows, a Continue form).
      this.els.attempts.replaceChildren();
      this.attemptRows.clear();
      this.closeContinue();
    }
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
      this.els.attempts.replaceChildren();
      this.attemptRows.clear();
      this.currentShown = undefined;
    }
    if (!prev) {
      this.currentShown = undefined;
    }
    if (!prev || prev.header !== view.header || prev.budget.estimate !== view.budget.estimate) {
      this.renderHeader(view, prev);
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
    if (!prev || prev.status !== view.status || prev.answers !== view.answers || prev.header !== view.header) {
      this.renderActions(view);
    }
    if (!prev || prev.answers !== view.answers) {
      if (!prev) {
        this.chainShown = -1;
      }
      this.renderCurrent(view);
      this.renderHistory(view, prev);
    } else if (prev.attempts !== view.attempts) {
      // An attempt's cluster may arrive after the answer it backs: only the meta line changes.
      this.renderCurrentMeta(view);
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
    if (!prev || prev.attempts !== view.attempts || prev.header.answerKind !== view.header.answerKind) {
      this.renderAttempts(view);
    }
  }

  /**
   * The panel's runs, oldest first, as one button each (number, strategy, best answer); the shown
   * one is marked. Hidden while the panel has shown one run only. Texts go into text nodes only.
   */
  renderRuns(list: RunList): void {
    const nav = this.els.runs;
    nav.hidden = list.runs.length < 2;
    nav.replaceChildren(h('span', { class: 'runs-label' }, 'Runs'), ...list.runs.map((r, i) => {
      const current = r.runId === list.shown;
      const strategy = STRATEGY_LABELS[r.strategy] ?? r.strategy;
      const state = r.state === 'running' ? 'running' : r.state === 'interrupted' ? 'interrupted' : 'finished';
      return h('button', {
        type: 'button', class: 'run-chip', 'data-run-id': r.runId, 'data-state': r.state,
        'aria-current': current ? 'true' : undefined,
        title: `${r.title} · ${strategy} · ${state}${current ? ' (shown)' : ''}`,
      },
      h('span', { class: 'run-number' }, `#${i + 1}`), ` ${strategy}`,
      r.answer ? h('span', { class: 'run-answer' }, ` · ${r.answer}`) : null,
      r.state === 'running' ? h('span', { class: 'run-running' }, ' · running') : null);
    }));
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

  private renderHeader(view: RunView, prev: RunView | undefined): void {
    const e = this.els;
    const header = view.header;
    if (!prev || prev.header.question !== header.question || prev.header.context?.languageId !== header.context?.languageId) {
      this.renderQuestion(header.question, header.context?.languageId);
    }
    if (!prev || prev.header.about !== header.about || prev.header.context !== header.context) {
      this.renderAbout(view);
    }
    const kind = header.answerKind ?? 'short';
    const chosenBy = header.answerKindSource === 'auto' ? ' (auto)' : header.answerKindSource === 'run' ? ' (this run)' : '';
    e.answerKind.replaceChildren('Answer kind: ', h('strong', {}, KIND_LABELS[kind]), chosenBy);
    e.answerKind.dataset.kind = kind;
    if (e.rerunKind.dataset.kind !== kind) {
      // Offer the other kinds, proposing an explanation (or, for an explanation, code).
      e.rerunKind.dataset.kind = kind;
      for (const option of Array.from(e.rerunKind.options)) {
        option.hidden = option.value === kind;
        option.disabled = option.value === kind;
      }
      e.rerunKind.value = kind === 'prose' ? 'code' : 'prose';
    }
    e.meta.replaceChildren(...joinParts(headerParts(view)));
    const caps = view.header.caps;
    e.caps.textContent = caps.length ? `Caps: ${caps.join(' · ')}` : '';
    e.caps.hidden = caps.length === 0;
    if (view.budget.estimate?.note) {
      e.meta.title = view.budget.estimate.note;
    }
  }

  /**
   * The question: markdown (its fenced code highlighted, its math typeset), or a code block when the
   * question is itself code. A long one starts collapsed to its first line.
   */
  private renderQuestion(question: string, languageId: string | undefined): void {
    const e = this.els;
    const code = looksLikeCode(question);
    const body = code
      ? h('div', { class: 'question-body question-code' }, codeBlock(question, languageId, { fenced: false }))
      : h('div', { class: 'markdown question-body' }, renderMarkdown(question));
    if (question.length > LONG_QUESTION_CHARS || question.split('\n').length > 4) {
      const first = code
        ? (question.split('\n').find((l) => l.trim()) ?? '').trim().slice(0, 120)
        : question.replace(/\s+/g, ' ').trim().slice(0, 120);
      e.question.replaceChildren(h('details', { class: 'question-details' },
        h('summary', { class: `question-summary${code ? ' question-summary-code' : ''}`, title: 'Show the whole question' }, `${first}…`), body));
    } else {
      e.question.replaceChildren(body);
    }
  }

  /** "about `src/x.ts` lines 12-30", with the selected code behind it (built when opened). */
  private renderAbout(view: RunView): void {
    const e = this.els;
    const { about, context } = view.header;
    e.about.hidden = !about;
    if (!about) {
      e.about.replaceChildren();
      return;
    }
    const label = h('span', { class: 'about-label' }, 'about ', ...inlineCode(about));
    e.about.replaceChildren(context
      ? h('details', { class: 'about-details' },
        h('summary', { title: 'Show the code the question is about' }, label),
        h('div', { class: 'about-body' }))
      : label);
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
    // What the main actions say depends on the kind: "Copy code" and a Replace that shows a diff
    // (only for a run about a selection) for code; prose is copied or inserted whole.
    const kind = runKind(view);
    e.copy.textContent = kind === 'code' ? 'Copy code' : 'Copy answer';
    e.insert.textContent = 'Insert at cursor';
    e.replace.textContent = kind === 'code' ? 'Replace selection (shows a diff)' : 'Replace selection';
    e.replace.hidden = kind === 'prose' || (kind === 'code' && !view.header.context);
    if (kind === 'code') {
      e.replace.title = 'Open a diff of the selection against this code; nothing changes until you accept it';
    } else {
      e.replace.removeAttribute('title');
    }
    // One primary button at a time, as VS Code does: Stop while running, then Continue if the budget ran out.
    const wantsMore = view.status.reason === 'budget-exhausted' || view.status.reason === 'max-chains' || view.status.reason === 'stopped';
    e.cont.classList.toggle('primary', !running && wantsMore && view.status.state === 'finished');
    e.cont.classList.toggle('secondary', !(!running && wantsMore && view.status.state === 'finished'));
    e.copy.classList.toggle('primary', !running && !wantsMore && hasAnswer);
    e.copy.classList.toggle('secondary', !(!running && !wantsMore && hasAnswer));
    if (running) {
      this.closeContinue();
    }
    if (e.rerunStrategy.dataset.runId !== view.header.runId) {
      // The run's own strategy (a cascade, which Re-run cannot repeat, proposes the single chain).
      e.rerunStrategy.value = RERUN_STRATEGIES.find((s) => s === view.header.strategy) ?? 'single';
      e.rerunStrategy.dataset.runId = view.header.runId;
      // As the run had them: on when its examples were (even if none fitted), off when they were not.
      e.rerunExamples.checked = view.header.preferenceExamples !== undefined;
    }
  }

  private renderCurrent(view: RunView): void {
    const e = this.els;
    const index = view.answers.length - 1;
    const best = view.answers[index];
    if (!best) {
      this.currentShown = undefined;
      e.answer.classList.add('placeholder');
      e.answer.textContent = 'No answer yet';
      e.answer.removeAttribute('data-answer');
      e.answer.removeAttribute('data-kind');
      e.answerMeta.textContent = '';
      e.answerChain.hidden = true;
      this.setBadge(e.answerModel, undefined);
      return;
    }
    if (best !== this.currentShown) {
      this.currentShown = best;
      const kind = best.answerKind ?? 'short';
      e.answer.classList.remove('placeholder');
      e.answer.dataset.kind = kind;
      e.answer.dataset.index = String(index);
      e.answer.dataset.confidence = best.confidence.toFixed(3);
      if (kind === 'short') {
        e.answer.dataset.answer = best.answer;
        e.answer.setAttribute('aria-live', 'polite');
        e.answer.replaceChildren(renderAnswer(best.answer));
      } else {
        // A whole function or explanation is not read out to a screen reader on every change.
        e.answer.removeAttribute('data-answer');
        e.answer.setAttribute('aria-live', 'off');
        if (kind === 'code') {
          const block = codeBlock(best.answer, best.language);
          setBlockActions(block, index, 0);
          e.answer.replaceChildren(block);
        } else {
          const body = h('div', { class: 'markdown' }, renderMarkdown(best.answer));
          addBlockActions(body, index, best.answer);
          e.answer.replaceChildren(body);
        }
      }
      this.setBadge(e.answerModel, best.model);
      e.answerChain.hidden = !best.text;
    }
    this.renderCurrentMeta(view);
    this.renderChain();
  }

  /** "answer A · at 1.2k tokens · 75% · changed · 3 of 4 similar" under the best answer's title. */
  private renderCurrentMeta(view: RunView): void {
    const best = view.answers[view.answers.length - 1];
    if (best) {
      const cluster = clusterOf(view, best);
      this.els.answerMeta.textContent = cluster ? `answer ${cluster} · ${answerMeta(best)}` : answerMeta(best);
    }
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
      e.answerChainBody.replaceChildren(renderChain(view.answers[index].text));
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
      list.prepend(this.historyItem(view, view.answers[i], i));
    }
    list.querySelector('.answer-item.latest')?.classList.remove('latest');
    list.firstElementChild?.classList.add('latest');
    this.els.answersTitle.textContent = `Progressive answers (${view.answers.length})`;
  }

  private historyItem(view: RunView, a: ProgressiveAnswer, index: number): HTMLLIElement {
    const kind = a.answerKind ?? 'short';
    let answer: HTMLElement;
    if (kind === 'short') {
      answer = h('span', { class: 'item-answer' });
      answer.append(renderAnswer(a.answer));
    } else {
      // One line of the code or prose, as text (no markdown parse per item); the chain has the rest.
      const cluster = clusterOf(view, a);
      answer = h('span', { class: `item-answer item-preview item-preview-${kind}`, title: kind === 'code' ? 'First line of the code' : 'First line of the answer' },
        cluster ? h('span', { class: 'item-cluster' }, `answer ${cluster}`) : null,
        h('span', { class: 'item-preview-text' }, previewLine(a.answer, kind)));
    }
    return h('li', {
      class: `answer-item${a.changed ? ' changed' : ''}`, 'data-kind': kind,
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
      this.thinkSplitter = new ThinkTagSplitter();
      this.thinking = undefined;
      this.appendLive(view.reasoning.text);
    } else if (append) {
      this.appendLive(append);
    }
    if (this.stickToBottom && this.els.reasoningSection.open) {
      pre.scrollTop = pre.scrollHeight;
    }
  }

  /**
   * Live text, its thinking (inside `<think>` tags, as the view carries a reasoning model's thinking)
   * into a folded "Thinking" block of its own, apart from the reply that follows.
   */
  private appendLive(text: string): void {
    for (const segment of this.thinkSplitter.feed(text)) {
      if (segment.thinking) {
        if (!this.thinking) {
          this.thinking = h('div', { class: 'thinking-body' });
          this.els.reasoning.append(h('details', { class: 'thinking', open: true }, h('summary', {}, 'Thinking'), this.thinking));
        }
        this.appendReasoning(segment.text, this.thinking);
      } else {
        this.thinking = undefined;
        this.appendReasoning(segment.text, this.els.reasoning);
      }
    }
  }

  /**
   * Appends text in blocks of a few KB cut at line ends: the browser then re-lays out only the last
   * block per frame, not the whole 64 KB chain.
   */
  private appendReasoning(text: string, pre: HTMLElement): void {
    let block = pre.lastElementChild as HTMLElement | null;
    if (block && !block.classList.contains('reasoning-block')) {
      block = null;
    }
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

  /**
   * One row per attempt, in order. A finished attempt's row opens to its whole text, rendered as
   * markdown only when opened. Rows are kept by attempt number and rebuilt only when what they show
   * changes, so an open chain stays open while the run goes on.
   */
  private renderAttempts(view: RunView): void {
    const list = this.els.attempts;
    const clusters = runKind(view) !== 'short';
    const seen = new Set<number>();
    let before: ChildNode | null = list.firstChild;
    for (const a of view.attempts) {
      seen.add(a.attempt);
      const line = attemptLine(a, clusters);
      const key = `${line}\u0000${a.model ?? ''}\u0000${a.text === undefined ? '' : a.text.length}`;
      let row = this.attemptRows.get(a.attempt);
      if (!row || row.key !== key) {
        const li = this.attemptRow(a, line, view.attempts);
        if (row) {
          if (row.li === before) {
            before = row.li.nextSibling;
          }
          row.li.remove();
        }
        row = { li, key };
        this.attemptRows.set(a.attempt, row);
      }
      if (row.li !== before) {
        list.insertBefore(row.li, before);
      }
      before = row.li.nextSibling;
    }
    for (const [attempt, row] of this.attemptRows) {
      if (!seen.has(attempt)) {
        row.li.remove();
        this.attemptRows.delete(attempt);
      }
    }
  }

  private attemptRow(a: AttemptView, line: string, attempts: readonly AttemptView[]): HTMLLIElement {
    // A value tree's steps are indented by their depth (at most 6 levels), so the rows read as the tree;
    // a value call sits, dimmed, under the step it scored.
    const scored = a.scored !== undefined ? attempts.find((s) => s.attempt === a.scored)?.step : undefined;
    const depth = a.step ? ` attempt-step depth-${Math.min(6, a.step.depth)}` : scored ? ` attempt-aux depth-${Math.min(6, scored.depth)}` : '';
    const cls = `attempt attempt-${a.finishReason === null ? 'open' : 'done'}${a.duplicateOf !== undefined ? ' attempt-duplicate' : ''}${depth}`;
    const text = h('span', { class: 'attempt-text' }, line);
    if (a.text === undefined || a.finishReason === null) {
      return h('li', { class: cls, 'data-attempt': a.attempt }, text, this.badge(a.model));
    }
    return h('li', { class: `${cls} attempt-readable`, 'data-attempt': a.attempt },
      h('details', { class: 'chain attempt-chain' },
        h('summary', { title: `Show the whole text of attempt ${a.attempt}` }, text, this.badge(a.model)),
        h('div', { class: 'markdown attempt-body' })));
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

/** The kind of the run's answers: the best answer's, else the header's (views saved before kinds: short). */
function runKind(view: RunView): AnswerKind {
  return view.answers[view.answers.length - 1]?.answerKind ?? view.header.answerKind ?? 'short';
}

/** The cluster ("A", "B"…) of a code or prose answer: the vote of the attempt its chain comes from. */
function clusterOf(view: RunView, a: ProgressiveAnswer): string | undefined {
  if ((a.answerKind ?? 'short') === 'short' || a.attempt === undefined) {
    return undefined;
  }
  const vote = view.attempts.find((x) => x.attempt === a.attempt)?.answer;
  return vote ? vote : undefined;
}

/** "`src/x.ts` lines 12-30" as text with the backticked parts in <code> (never as HTML). */
function inlineCode(text: string): Node[] {
  return text.split('`').map((part, i) => (i % 2 ? h('code', {}, part) : document.createTextNode(part)));
}
