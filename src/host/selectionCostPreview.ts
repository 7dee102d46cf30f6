/**
 * What a question would cost before it is asked: the meter's tooltip for the selected text, and
 * @budget's /estimate. The run plan prices it, with the local estimator only: never a call.
 */
import * as vscode from 'vscode';
import type { CostPreview } from '../core/run/costPreview';
import type { Settings } from '../core/config';
import { ACTION_QUESTIONS, selectionIsText, type QuestionContext } from '../core/reasoning/answerKinds';
import { planRun } from '../core/run/plan';
import { rangeContext } from './codeContext';
import { Disposable } from './lifecycle';
import { previewModels } from './modelResolution';
import type { Services } from './services';
import { readSettings } from './settings';

/** The action question a preview of selected code is priced with: the longest, so the preview does not understate. */
const LONGEST_ACTION_QUESTION = Object.values(ACTION_QUESTIONS).reduce((a, b) => (b.length > a.length ? b : a));

/** Selections longer than this get no preview: tokenizing them on every selection change would cost more than it tells. */
export const PREVIEW_MAX_CHARS = 20_000;
const PREVIEW_DEBOUNCE_MS = 300;

/**
 * The run plan's cost preview of this question, with its code if any (at a cascade's strongest model, or at `chosenId`);
 * undefined when the question itself is refused (empty, binary).
 */
export async function previewCost(services: Services, settings: Settings, question: string, budgetTokens?: number, chosenId?: string, context?: QuestionContext): Promise<{ preview: CostPreview; model: string } | undefined> {
  const [estimator, ratios, pairs] = await Promise.all([services.localEstimator(), services.tokenRatios(), services.preferencePairs()]);
  const models = previewModels(services, settings, chosenId);
  const result = planRun({
    question,
    settings,
    ...(budgetTokens !== undefined ? { budgetTokens } : {}),
    ...(context ? { context } : {}),
    models,
    tokens: services.tokens,
    ratios,
    // The examples the run would send are in what it would cost.
    preferencePairs: pairs.list,
    estimate: (q) => estimator.estimate(q),
    learnedRuns: estimator.learnedRuns,
  });
  const preview = result.ok ? result.plan.preview : result.preview;
  return preview && { preview, model: models[models.length - 1].id };
}

/** Keeps the meter's tooltip showing what the selected question would cost; debounced, local, never a call. */
export class SelectionCostPreview extends Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;

  constructor(private readonly services: Services) {
    super();
    this._register(vscode.window.onDidChangeTextEditorSelection((e) => this.schedule(e.textEditor)));
    this._register(vscode.window.onDidChangeActiveTextEditor((editor) => this.schedule(editor)));
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  private schedule(editor: vscode.TextEditor | undefined): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(editor).catch((e) => this.services.log.warn('preview', `no cost preview: ${String(e)}`)), PREVIEW_DEBOUNCE_MS);
  }

  private async update(editor: vscode.TextEditor | undefined): Promise<void> {
    const generation = ++this.generation;
    const selection = editor?.selection;
    const text = editor && selection && !selection.isEmpty ? editor.document.getText(selection).trim() : '';
    if (!text || text.length > PREVIEW_MAX_CHARS) {
      this.services.meter.setPreview(undefined);
      return;
    }
    // Selected code is asked about, not asked: priced as the longest action's question with the code as its context.
    const settings = readSettings().settings;
    const aboutCode = editor && selection && !selectionIsText(editor.document.languageId);
    const p = (aboutCode
      ? await previewCost(this.services, settings, LONGEST_ACTION_QUESTION, undefined, undefined, rangeContext(editor.document, selection, settings.contextLines))
      : await previewCost(this.services, settings, text))?.preview;
    if (generation === this.generation) {
      this.services.meter.setPreview(p && { tokens: p.chainTokens, low: p.low, expected: p.expected, worst: p.worst });
    }
  }
}
