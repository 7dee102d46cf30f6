/**
 * "Show Spend Report": the ledger by day and model as charts and a table in a webview, with CSV
 * export; "Export Spend as CSV" alone. One view, reused; it redraws whenever the ledger changes.
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { localDay } from '../core/ledger/spendLedger';
import type { SpendSnapshot } from '../core/view/spendView';
import { parseFromSpendViewMessage, SPEND_VIEW_TYPE, type ToSpendViewMessage } from '../protocol';
import { Disposable } from './lifecycle';
import { panelHtml } from './panelHtml';
import type { Services } from './services';
import { readSettings } from './settings';

export class SpendView extends Disposable {
  private static current: SpendView | undefined;
  private ready = false;

  /** Opens the spend view, or reveals and redraws the one already open. */
  static show(services: Services): SpendView {
    if (SpendView.current) {
      SpendView.current.panel.reveal();
      void SpendView.current.post();
      return SpendView.current;
    }
    const panel = vscode.window.createWebviewPanel(SPEND_VIEW_TYPE, 'Budget Reasoner: Spend', vscode.ViewColumn.Active, webviewOptions(services.context.extensionUri));
    return new SpendView(panel, services);
  }

  /** Takes over a spend view VS Code restored after a reload; it asks the ledger afresh. */
  static revive(panel: vscode.WebviewPanel, services: Services): SpendView {
    SpendView.current?.dispose();
    panel.webview.options = webviewOptions(services.context.extensionUri);
    return new SpendView(panel, services);
  }

  private constructor(private readonly panel: vscode.WebviewPanel, private readonly services: Services) {
    super();
    SpendView.current = this;
    services.context.subscriptions.push(this);
    const uri = services.context.extensionUri;
    panel.iconPath = { light: vscode.Uri.joinPath(uri, 'media', 'answer-light.svg'), dark: vscode.Uri.joinPath(uri, 'media', 'answer-dark.svg') };
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)));
    this._register(services.onDidChangeSpend(() => void this.post()));
    // A hidden webview's page is discarded; shown again, it says spendReady and gets a snapshot.
    this._register(panel.onDidChangeViewState(() => {
      this.ready &&= panel.visible;
    }));
    this._register(panel.onDidDispose(() => this.dispose()));
    const asset = (...path: string[]) => panel.webview.asWebviewUri(vscode.Uri.joinPath(uri, ...path)).toString();
    panel.webview.html = panelHtml({
      cspSource: panel.webview.cspSource,
      nonce: randomUUID(),
      styles: [asset('media', 'webview-base.css'), asset('media', 'spend.css')],
      scripts: [asset('dist', 'spend.js')],
      title: 'Budget Reasoner: Spend',
      rootClass: 'spend',
    });
  }

  override dispose(): void {
    if (SpendView.current === this) {
      SpendView.current = undefined;
    }
    super.dispose();
    this.panel.dispose();
  }

  private onMessage(raw: unknown): void {
    const parsed = parseFromSpendViewMessage(raw);
    if ('error' in parsed) {
      this.services.log.warn('spend', `ignored a message from the spend view: ${parsed.error}`);
      return;
    }
    if (parsed.message.type === 'spendReady') {
      this.ready = true;
      void this.post();
    } else {
      void exportSpendCsv(this.services).catch((e: unknown) => this.services.log.error('spend', 'CSV export failed', e));
    }
  }

  /** A whole snapshot of the ledger, once the page listens. */
  private async post(): Promise<void> {
    if (!this.ready) {
      return;
    }
    const message: ToSpendViewMessage = { type: 'spendSnapshot', snapshot: await spendSnapshot(this.services) };
    if (this.ready) {
      this.panel.webview.postMessage(message).then(undefined, (e: unknown) => this.services.log.warn('spend', `post failed: ${String(e)}`));
    }
  }
}

async function spendSnapshot(services: Services): Promise<SpendSnapshot> {
  const ledger = await services.ledger();
  await ledger.refresh();
  const { dailyCapUsd, dailyTokenCap, warnAtPercent } = readSettings().settings;
  return { rows: await ledger.byDayAndModel(), today: localDay(new Date()), dailyCapUsd, dailyTokenCap, warnAtPercent, ledgerFile: ledger.file };
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** Restores the spend view after a window reload; it stores nothing but the range and metric picked. */
export function registerSpendViewSerializer(services: Services): void {
  services.context.subscriptions.push(vscode.window.registerWebviewPanelSerializer(SPEND_VIEW_TYPE, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
      SpendView.revive(panel, services);
    },
  }));
}

/** "Show Spend Report". */
export async function showSpendReport(services: Services): Promise<void> {
  SpendView.show(services);
}

/** "Export CSV": every ledger record, to a file the user picks (offered in the workspace folder, else the home folder). */
export async function exportSpendCsv(services: Services): Promise<void> {
  const name = `budget-reasoner-spend-${localDay(new Date())}.csv`;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const target = await vscode.window.showSaveDialog({ filters: { CSV: ['csv'] }, saveLabel: 'Export spend', defaultUri: vscode.Uri.joinPath(folder, name) });
  if (!target) {
    return;
  }
  const csv = await (await services.ledger()).toCsv();
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(csv));
  void vscode.window.showInformationMessage(`Budget Reasoner: spend exported to ${target.fsPath}.`);
}
