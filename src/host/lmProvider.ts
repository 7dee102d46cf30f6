import * as vscode from 'vscode';
import type { ChatProvider, ChatRequest, ChatStreamEvent } from '../core/providers/chatProvider';
import { ProviderError } from '../core/providers/chatProvider';

/**
 * VS Code's Language Model API (e.g. Copilot models): no key, billed in requests rather than dollars.
 * It reports no usage, so the metered caller counts tokens itself and stops reading at the grant.
 */
export class LanguageModelProvider implements ChatProvider {
  readonly id: string;
  readonly billsInDollars = false;

  constructor(private readonly model: vscode.LanguageModelChat) {
    this.id = `vscode-lm:${model.vendor}/${model.id}`;
  }

  static async find(id: string): Promise<LanguageModelProvider | undefined> {
    if (!vscode.lm?.selectChatModels) {
      return undefined;
    }
    const [model] = await vscode.lm.selectChatModels({ id });
    return model ? new LanguageModelProvider(model) : undefined;
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    if ((request.n ?? 1) > 1) {
      throw new ProviderError('bad-request', 'VS Code language models sample one answer per request; run chains one at a time.');
    }
    const cts = new vscode.CancellationTokenSource();
    const onAbort = () => cts.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    // The LM API has no system role: the system prompt leads the first user message.
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    const messages = request.messages.filter((m) => m.role !== 'system').map((m, i) => {
      const content = i === 0 && system ? `${system}\n\n${m.content}` : m.content;
      return m.role === 'assistant' ? vscode.LanguageModelChatMessage.Assistant(content) : vscode.LanguageModelChatMessage.User(content);
    });
    try {
      const response = await this.model.sendRequest(messages, { justification: 'Budget Reasoner answers your question within the budget you set.' }, cts.token);
      for await (const text of response.text) {
        if (signal.aborted) {
          throw new ProviderError('aborted', 'Stopped.');
        }
        yield { kind: 'delta', choice: 0, text };
      }
    } catch (error) {
      if (error instanceof ProviderError) {
        throw error;
      }
      if (signal.aborted) {
        throw new ProviderError('aborted', 'Stopped.');
      }
      if (error instanceof vscode.LanguageModelError) {
        if (error.code === vscode.LanguageModelError.NoPermissions.name) {
          throw new ProviderError('forbidden', 'Budget Reasoner may not use this language model yet: allow it when VS Code asks, then try again.');
        }
        if (error.code === vscode.LanguageModelError.NotFound.name) {
          throw new ProviderError('model-not-found', `The language model "${this.model.id}" is no longer available. Run "Budget Reasoner: Select Model".`);
        }
        if (error.code === vscode.LanguageModelError.Blocked.name) {
          throw new ProviderError('rate-limited', 'The language model blocked the request (quota or rate limit). Try again later.');
        }
      }
      throw new ProviderError('server', `The language model failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      signal.removeEventListener('abort', onAbort);
      cts.dispose();
    }
    yield { kind: 'done', finishReasons: ['stop'], usage: undefined };
  }

  async listModels(): Promise<string[]> {
    return [this.model.id];
  }

  /** The model's own count where it gives a plausible one, else undefined (callers fall back to tiktoken). */
  async countTokens(text: string): Promise<number | undefined> {
    try {
      const n = await this.model.countTokens(text);
      return Number.isFinite(n) && n > 0 && n < text.length * 2 + 16 ? n : undefined;
    } catch {
      return undefined;
    }
  }
}

export async function listLanguageModels(): Promise<vscode.LanguageModelChat[]> {
  if (!vscode.lm?.selectChatModels) {
    return [];
  }
  try {
    return await vscode.lm.selectChatModels();
  } catch {
    return [];
  }
}
