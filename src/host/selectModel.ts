/** "Select Model": the endpoint's /v1/models and VS Code's language models in one QuickPick. */
import * as vscode from 'vscode';
import { listLanguageModels } from './lmProvider';
import { endpointProvider, VSCODE_LM_PREFIX } from './modelResolution';
import type { Services } from './services';
import { readSettings, updateSetting } from './settings';

export async function selectModel(services: Services): Promise<void> {
  const { settings } = readSettings();
  const provider = await endpointProvider(services, settings.baseUrl, { maxRetries: 1, timeoutMs: 15_000 });
  type Item = vscode.QuickPickItem & { model?: string };
  const quickPick = vscode.window.createQuickPick<Item>();
  quickPick.title = 'Budget Reasoner: Select Model';
  quickPick.placeholder = `Models of ${settings.baseUrl} and VS Code's language models`;
  quickPick.busy = true;
  quickPick.show();
  const items: Item[] = [];
  const abort = new AbortController();
  quickPick.onDidHide(() => abort.abort());
  try {
    if (provider) {
      const ids = await provider.listModels(abort.signal);
      items.push({ label: settings.baseUrl, kind: vscode.QuickPickItemKind.Separator });
      items.push(...ids.map((id) => ({ label: id, model: id, description: id === settings.model ? 'current' : undefined })));
    } else {
      items.push({ label: `$(key) Set an API key for ${settings.baseUrl} to list its models`, model: undefined });
    }
  } catch (error) {
    services.log.warn('models', `listing models failed: ${String(error)}`);
    items.push({ label: `$(warning) ${error instanceof Error ? error.message : String(error)}` });
  }
  const lm = await listLanguageModels();
  if (lm.length) {
    items.push({ label: 'VS Code language models (billed in requests)', kind: vscode.QuickPickItemKind.Separator });
    items.push(...lm.map((m) => ({ label: m.name, description: `${m.vendor} · ${m.family}`, model: `${VSCODE_LM_PREFIX}${m.id}` })));
  }
  quickPick.items = items;
  quickPick.busy = false;
  const picked = await new Promise<Item | undefined>((resolve) => {
    quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]));
    quickPick.onDidHide(() => resolve(undefined));
  });
  quickPick.dispose();
  if (picked?.model) {
    await updateSetting('model', picked.model);
    void vscode.window.showInformationMessage(`Budget Reasoner: model set to ${picked.model}.`);
  } else if (picked && !provider) {
    await services.apiKeys.promptAndStore(settings.baseUrl);
  }
}

