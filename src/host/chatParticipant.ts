/**
 * `@budget` in VS Code Chat: the same pipeline as "Reason with budget" (estimate, caps, ledger,
 * stopping rule), shown in the chat response instead of a panel, with a button that opens the full
 * answer panel for the run afterwards. `#selection`, `#file` and the editor's selection are sent as
 * the code the question is about (chatReferences.ts). Registered only where VS Code has the Chat API.
 */
import * as vscode from 'vscode';
import { chatAskAboutCode } from '../core/chat/chatCodeAsk';
import { ChatRunReporter, estimateMarkdown, parseChatAsk, spendMarkdown, type ChatAsk, type ChatSink } from '../core/chat/chatReport';
import type { Settings } from '../core/config';
import { providerConfigured } from '../core/firstRun';
import { checkQuestion } from '../core/question';
import { REFUSAL_ACTIONS, refusal } from '../core/run/refusal';
import { chatCode } from './chatReferences';
import { LanguageModelProvider } from './lmProvider';
import type { ReasonCommand } from './reasonCommand';
import type { ReasonArgs, StartOptions } from './runPipeline';
import { confirmInModal } from './runSurface';
import { previewCost } from './selectionCostPreview';
import type { Services } from './services';

export const CHAT_PARTICIPANT_ID = 'budgetReasoner.budget';
export const OPEN_RUN_PANEL_COMMAND = 'budgetReasoner.openChatRun';

/** What the handler uses of a chat request: the parts a test can build without the chat UI. */
export type BudgetChatRequest = Pick<vscode.ChatRequest, 'prompt' | 'command'> & {
  model?: vscode.LanguageModelChat;
  references?: readonly Pick<vscode.ChatPromptReference, 'id' | 'range' | 'value'>[];
};
/** What the handler writes: a subset of vscode.ChatResponseStream. */
export type BudgetChatStream = ChatSink & { button(command: vscode.Command): void };

export interface BudgetChatResult extends vscode.ChatResult {
  metadata: { command: ChatAsk['kind']; runId?: string };
}

export class BudgetChat {
  constructor(private readonly services: Services, private readonly reason: ReasonCommand) {}

  /** Adds @budget where the Chat API exists; elsewhere (older VS Code, code-server without chat) only the log says so. */
  register(context: vscode.ExtensionContext): void {
    const chat = (vscode as { chat?: Partial<typeof vscode.chat> }).chat;
    if (typeof chat?.createChatParticipant !== 'function') {
      this.services.log.info('chat', 'this VS Code has no Chat API: @budget is not available, everything else is');
      return;
    }
    const participant = chat.createChatParticipant(CHAT_PARTICIPANT_ID, (request, _context, stream, token) => this.handle(request, stream, token));
    participant.iconPath = {
      light: vscode.Uri.joinPath(context.extensionUri, 'media', 'answer-light.svg'),
      dark: vscode.Uri.joinPath(context.extensionUri, 'media', 'answer-dark.svg'),
    };
    context.subscriptions.push(participant);
    this.services.log.info('chat', '@budget registered; VS Code shows it where Chat is enabled (a chat provider such as Copilot Chat is installed)');
  }

  async handle(request: BudgetChatRequest, stream: BudgetChatStream, token: vscode.CancellationToken): Promise<BudgetChatResult> {
    const settings = this.reason.settingsWithWarnings().settings;
    const code = request.command === 'spend' ? undefined : await chatCode(request.prompt, request.references ?? [], settings.contextLines);
    const { ask, action } = code?.context
      ? chatAskAboutCode(request.command, code.prompt, code.promptWithout)
      : { ask: parseChatAsk(request.command, request.prompt), action: undefined };
    for (const note of code?.notes ?? []) {
      stream.markdown(`${note}\n\n`);
    }
    switch (ask.kind) {
      case 'invalid':
        stream.markdown(ask.message);
        return { metadata: { command: 'invalid' }, errorDetails: { message: ask.message } };
      case 'spend':
        return this.spend(settings, stream);
      case 'estimate':
      case 'reason': {
        const checked = checkQuestion(ask.question);
        if (!checked.ok) {
          const { message } = refusal('bad-question', checked.message);
          stream.markdown(message);
          return { metadata: { command: 'invalid' }, errorDetails: { message } };
        }
        const model = await this.chooseModel(settings, request.model);
        if (model === 'not-set-up') {
          const message = `No API key is set for ${settings.baseUrl}, so @budget cannot use the configured provider. Nothing was sent.`;
          stream.markdown(message);
          stream.button({ command: 'budgetReasoner.setApiKey', title: 'Set API Key' });
          return { metadata: { command: ask.kind }, errorDetails: { message } };
        }
        const args: ReasonArgs = {
          ...(ask.budgetTokens !== undefined ? { budgetTokens: ask.budgetTokens } : {}),
          ...(code?.context ? { context: code.context } : {}),
          ...(action ? { action } : {}),
        };
        return ask.kind === 'estimate'
          ? this.estimate(settings, checked.question, args, model, stream)
          : this.run(settings, checked.question, args, code?.source, model, stream, token);
      }
    }
  }

  /** Opens a chat run in the answer panel, where it can be continued with more budget. */
  openPanel(runId: unknown): void {
    if (typeof runId !== 'string' || !this.reason.pipeline.registry.showInPanel(runId)) {
      void vscode.window.showInformationMessage('Budget Reasoner: that chat run is no longer kept in this window; its spend is in the spend report.');
    }
  }

  private async run(settings: Settings, question: string, args: ReasonArgs, source: StartOptions['source'], model: StartOptions['model'], stream: BudgetChatStream, token: vscode.CancellationToken): Promise<BudgetChatResult> {
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    let reporter: ChatRunReporter | undefined;
    try {
      const result = await this.reason.pipeline.start(question, settings, args, {
        ...(model ? { model } : {}),
        ...(source ? { source } : {}),
        presenter: {
          // The refusal in the response, its actions as buttons: the chat knows exactly why the run did not start.
          present: async (refusal) => {
            stream.markdown(refusal.message);
            for (const action of refusal.actions) {
              const spec: { title: string; command: string; args?: readonly string[] } = REFUSAL_ACTIONS[action];
              stream.button({ command: spec.command, title: spec.title, ...(spec.args ? { arguments: [...spec.args] } : {}) });
            }
          },
          confirm: confirmInModal,
          open: (header) => (reporter = new ChatRunReporter(stream, header)),
        },
        signal: abort.signal,
      });
      if (!result.started && !reporter) {
        return { metadata: { command: 'reason' }, errorDetails: { message: result.refusal.message } };
      }
      const r = reporter!;
      r.finish(r.view.header.providerBillsInDollars !== false);
      const runId = r.view.header.runId;
      stream.button({ command: OPEN_RUN_PANEL_COMMAND, title: 'Open in Answer Panel', arguments: [runId] });
      const failure = result.started ? (result.summary.reason === 'error' ? result.summary.message : undefined) : result.refusal.message;
      return { metadata: { command: 'reason', runId }, ...(failure !== undefined ? { errorDetails: { message: failure } } : {}) };
    } finally {
      cancel.dispose();
    }
  }

  private async estimate(settings: Settings, question: string, args: ReasonArgs, model: StartOptions['model'], stream: BudgetChatStream): Promise<BudgetChatResult> {
    const { budgetTokens } = args;
    const priced = await previewCost(this.services, settings, question, budgetTokens, model?.id, args.context);
    if (!priced) {
      return { metadata: { command: 'estimate' } };
    }
    const source = budgetTokens !== undefined ? 'your /budget' : 'local estimate';
    stream.markdown(estimateMarkdown(priced.preview, settings.strategy === 'cascade' && !model ? `${priced.model} (the cascade's strongest model)` : priced.model, source));
    return { metadata: { command: 'estimate' } };
  }

  private async spend(settings: Settings, stream: BudgetChatStream): Promise<BudgetChatResult> {
    const ledger = await this.services.ledger();
    await ledger.refresh();
    const [today, month] = await Promise.all([ledger.today(), ledger.thisMonth()]);
    stream.markdown(spendMarkdown({ today, month, ...settings }));
    stream.button({ command: 'budgetReasoner.showSpendReport', title: 'Open Spend Report' });
    return { metadata: { command: 'spend' } };
  }

  /**
   * The model for this request: `configured` always uses the settings; `picked` the chat's model;
   * `auto` the settings when a provider is set up there (a key, a local endpoint or a VS Code model), else the chat's.
   */
  private async chooseModel(settings: Settings, picked: vscode.LanguageModelChat | undefined): Promise<StartOptions['model'] | 'not-set-up' | undefined> {
    const fromChat = picked ? { provider: new LanguageModelProvider(picked), id: `vscode-lm/${picked.id}` } : undefined;
    if (settings.chatModel === 'picked' && fromChat) {
      return fromChat;
    }
    const setUp = providerConfigured({ ...settings, hasApiKey: (await this.services.apiKeys.get(settings.baseUrl)) !== undefined });
    if (setUp || settings.strategy === 'cascade') {
      return undefined; // the configured provider (a cascade checks its own models' keys)
    }
    return settings.chatModel === 'auto' && fromChat ? fromChat : 'not-set-up';
  }
}
