import * as vscode from 'vscode';
import { checkBaseUrl, secretKeyFor } from '../core/config';

/** API keys live only in SecretStorage, one per base URL, so a key is only ever sent where it was saved for. */
export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(baseUrl: string): Thenable<string | undefined> {
    return this.secrets.get(secretKeyFor(baseUrl));
  }

  async set(baseUrl: string, key: string): Promise<void> {
    await this.secrets.store(secretKeyFor(baseUrl), key);
  }

  async clear(baseUrl: string): Promise<void> {
    await this.secrets.delete(secretKeyFor(baseUrl));
  }

  /** "Set API Key": asks for the key of the configured endpoint, masked, never echoed. */
  async promptAndStore(baseUrl: string): Promise<boolean> {
    const problem = checkBaseUrl(baseUrl);
    if (problem) {
      void vscode.window.showErrorMessage(`Budget Reasoner: ${problem}`);
      return false;
    }
    const key = await vscode.window.showInputBox({
      title: 'Budget Reasoner: API key',
      prompt: `API key for ${baseUrl}. It is stored in VS Code's secret storage and only sent to this URL.`,
      password: true,
      ignoreFocusOut: true,
      placeHolder: 'sk-…',
      validateInput: (v) => (v.trim().length < 8 ? 'That is too short to be an API key.' : /\s/.test(v.trim()) ? 'An API key has no spaces.' : undefined),
    });
    if (!key) {
      return false;
    }
    await this.set(baseUrl, key.trim());
    void vscode.window.showInformationMessage(`Budget Reasoner: API key saved for ${baseUrl}.`);
    return true;
  }
}
