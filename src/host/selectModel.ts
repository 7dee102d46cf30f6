/** "Select Model": the endpoint's /v1/models, the ids used before, a typed id, and VS Code's language models in one QuickPick. */
import * as vscode from 'vscode';
import { recentModels, rememberModel, typedChoices } from '../core/modelChoices';
import { listLanguageModels } from './lmProvider';
import { endpointProvider, VSCODE_LM_PREFIX } from './modelResolution';
import type { Services } from './services';
import { readSettings, updateSetting } from './settings';

/** globalState key of the model ids used before, most recent first. */
const RECENT_MODELS = 'budgetReasoner.recentModels';

export async function selectModel(services: Services): Promise<void> {
  const { settings } = readSettings();
  const provider = await endpointProvider(services, settings.baseUrl, { maxRetries: 1, timeoutMs: 15_000 });
  type Item = vscode.QuickPickItem & { model?: string };
  const quickPick = vscode.window.createQuickPick<Item>();
  quickPick.title = 'Budget Reasoner: Select Model';
  quickPick.placeholder = `A model of ${settings.baseUrl}, one used before, VS Code's language models, or type an id`;
  quickPick.busy = true;
  quickPick.show();
  const state = services.context.globalState;
  const recent = recentModels(state.get(RECENT_MODELS));
  const listedItems: Item[] = [];
  let listed: string[] = [];
  const abort = new AbortController();
  quickPick.onDidHide(() => abort.abort());
  try {
    if (provider) {
      listed = await provider.listModels(abort.signal);
      if (listed.length) {
        listedItems.push({ label: settings.baseUrl, kind: vscode.QuickPickItemKind.Separator });
        listedItems.push(...listed.map((id) => ({ label: id, model: id, description: id === settings.model ? 'current' : undefined })));
      }
    } else {
      listedItems.push({ label: `$(key) Set an API key for ${settings.baseUrl} to list its models`, model: undefined });
    }
  } catch (error) {
    services.log.warn('models', `listing models failed: ${String(error)}`);
    listedItems.push({ label: `$(warning) ${error instanceof Error ? error.message : String(error)}` });
  }
  const recentItems: Item[] = recent.filter((id) => !listed.includes(id)).map((id) => ({ label: id, model: id, description: id === settings.model ? 'current · used before' : 'used before' }));
  const lmItems: Item[] = [];
  const lm = await listLanguageModels();
  if (lm.length) {
    lmItems.push({ label: 'VS Code language models (billed in requests)', kind: vscode.QuickPickItemKind.Separator });
    lmItems.push(...lm.map((m) => ({ label: m.name, description: `${m.vendor} · ${m.family}`, model: `${VSCODE_LM_PREFIX}${m.id}` })));
  }
  const listedNone = provider !== undefined && listed.length === 0;
  const render = (typed: string) => {
    const rows: Item[] = typedChoices(typed, listed, recent, listedNone).map((c) => (c.kind === 'typed'
      ? { label: `$(edit) ${c.label}`, detail: c.detail, model: c.id, alwaysShow: true }
      : { label: c.kind === 'invalid' ? `$(warning) ${c.label}` : `$(info) ${c.label}`, alwaysShow: true }));
    quickPick.items = [
      ...rows,
      ...(recentItems.length ? [{ label: 'used before', kind: vscode.QuickPickItemKind.Separator } as Item, ...recentItems] : []),
      ...listedItems,
      ...lmItems,
    ];
  };
  render('');
  quickPick.onDidChangeValue(render);
  quickPick.busy = false;
  const picked = await new Promise<Item | undefined>((resolve) => {
    quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]));
    quickPick.onDidHide(() => resolve(undefined));
  });
  quickPick.dispose();
  if (picked?.model) {
    await updateSetting('model', picked.model);
    if (!picked.model.startsWith(VSCODE_LM_PREFIX)) {
      await state.update(RECENT_MODELS, rememberModel(recent, picked.model));
    }
    void vscode.window.showInformationMessage(`Budget Reasoner: model set to ${picked.model}.`);
  } else if (picked && !provider) {
    await services.apiKeys.promptAndStore(settings.baseUrl);
  }
}
