/**
 * "Reason with budget": the question (selected code with what to do with it, selected text, or a
 * typed question), then the run pipeline. The settings' problems are logged and the first one shown.
 */
import * as vscode from 'vscode';
import type { Settings } from '../core/config';
import { ProposedChanges } from './proposedChange';
import { askQuestion } from './questionInput';
import { RunPipeline, type ReasonArgs } from './runPipeline';
import type { RunSummary } from './runRegistry';
import type { Services } from './services';
import { readSettings } from './settings';

export type { ReasonArgs } from './runPipeline';

export class ReasonCommand {
  readonly pipeline: RunPipeline;

  constructor(private readonly services: Services) {
    // Replace selection's diffs (their virtual documents and the Apply / Discard commands) live as long as the extension.
    const proposals = new ProposedChanges(services.log);
    services.context.subscriptions.push(proposals);
    this.pipeline = new RunPipeline(services, proposals);
  }

  /** The command: `args.question` or the user's; undefined when it did not run (dismissed or refused: nothing was sent). */
  async run(args: ReasonArgs = {}): Promise<RunSummary | undefined> {
    const { settings } = this.settingsWithWarnings();
    let question = args.question;
    let source = {};
    if (question === undefined) {
      const asked = await askQuestion({ memento: this.services.context.globalState, contextLines: settings.contextLines });
      if (!asked) {
        return undefined; // dismissed: nothing was sent
      }
      ({ text: question, source } = asked);
      args = { ...args, ...(asked.context ? { context: asked.context } : {}), ...(asked.action ? { action: asked.action } : {}) };
    }
    const result = await this.pipeline.start(question, settings, args, { source });
    return result.started ? result.summary : undefined;
  }

  /** Settings, with their problems logged and the first one shown. */
  settingsWithWarnings(): { settings: Settings; problems: string[] } {
    const { settings, problems } = readSettings();
    for (const p of problems) {
      this.services.log.warn('settings', p);
    }
    if (problems.length) {
      void vscode.window.showWarningMessage(`Budget Reasoner: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more, see the log)` : ''}`);
    }
    return { settings, problems };
  }
}
