/** "Show Spend Report" and "Export Spend as CSV": the ledger by day and model. */
import * as vscode from 'vscode';
import { formatDollars } from '../core/tokens/amountText';
import type { Services } from './services';

/** The report's read-only document scheme: closing it never asks to save, as an Untitled document did. */
export const SPEND_REPORT_SCHEME = 'budget-reasoner-report';
const reports = new Map<string, string>();
let provider: vscode.Disposable | undefined;

function reportUri(content: string, services: Services): vscode.Uri {
  if (!provider) {
    provider = vscode.workspace.registerTextDocumentContentProvider(SPEND_REPORT_SCHEME, { provideTextDocumentContent: (uri) => reports.get(uri.path) ?? '' });
    services.context.subscriptions.push(provider);
  }
  const uri = vscode.Uri.from({ scheme: SPEND_REPORT_SCHEME, path: `/spend-report-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.md` });
  reports.set(uri.path, content);
  return uri;
}

/** "Show Spend Report": a day x model table as a read-only markdown document, with CSV export. */
export async function showSpendReport(services: Services): Promise<void> {
  const ledger = await services.ledger();
  await ledger.refresh();
  const rows = await ledger.byDayAndModel();
  const lines = ['# Budget Reasoner: spend report', '', `Ledger: \`${ledger.file}\``, ''];
  if (!rows.length) {
    lines.push('No spend recorded yet.');
  } else {
    lines.push('| day | model | calls | prompt tokens | completion tokens | reasoning tokens | dollars |', '|---|---|---:|---:|---:|---:|---:|');
    for (const r of [...rows].reverse()) {
      lines.push(`| ${r.day} | ${r.model} | ${r.calls} | ${r.promptTokens.toLocaleString('en-US')} | ${r.completionTokens.toLocaleString('en-US')} | ${r.reasoningTokens.toLocaleString('en-US')} | ${formatDollars(r.dollars, r.unpriced)}${r.estimated ? ' (est.)' : ''} |`);
    }
  }
  lines.push('', '_"est." marks counts made locally because the endpoint reported no usage; "+?" marks spend on models with no known price._');
  const doc = await vscode.workspace.openTextDocument(reportUri(lines.join('\n'), services));
  await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
  await vscode.window.showTextDocument(doc, { preview: true });
  const choice = await vscode.window.showInformationMessage('Budget Reasoner: spend report opened.', 'Export CSV');
  if (choice === 'Export CSV') {
    await exportSpendCsv(services);
  }
}

export async function exportSpendCsv(services: Services): Promise<void> {
  const target = await vscode.window.showSaveDialog({ filters: { CSV: ['csv'] }, saveLabel: 'Export spend', defaultUri: vscode.Uri.file(`budget-reasoner-spend-${new Date().toISOString().slice(0, 10)}.csv`) });
  if (!target) {
    return;
  }
  const csv = await (await services.ledger()).toCsv();
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(csv));
  void vscode.window.showInformationMessage(`Budget Reasoner: spend exported to ${target.fsPath}.`);
}

