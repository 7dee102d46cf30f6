import * as vscode from 'vscode';
import type { MeterState, SelectionPreview } from '../core/view/meterView';
import { meterView } from '../core/view/meterView';
import { Disposable } from './lifecycle';

/** The status-bar budget meter: spend against the budget at a glance; click for the budget menu. */
export class StatusBarMeter extends Disposable {
  private readonly item: vscode.StatusBarItem;
  private last: MeterState | undefined;
  private preview: SelectionPreview | undefined;

  constructor() {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('budgetReasoner.meter', vscode.StatusBarAlignment.Right, 100));
    this.item.name = 'Budget Reasoner';
    this.item.command = 'budgetReasoner.budgetMenu';
  }

  /** The selected question's cost preview, kept across spend updates until the selection changes. */
  setPreview(preview: SelectionPreview | undefined): void {
    this.preview = preview;
    if (this.last) {
      this.update(this.last);
    }
  }

  update(state: MeterState): void {
    this.last = state;
    const view = meterView({ ...state, preview: state.preview ?? this.preview });
    this.item.text = view.text;
    this.item.accessibilityInformation = { label: view.ariaLabel };
    const tooltip = new vscode.MarkdownString(view.tooltipMarkdown);
    tooltip.supportThemeIcons = true;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = view.level === 'error'
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : view.level === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  get state(): MeterState | undefined {
    return this.last;
  }

  /** For the extension-host tests: what the item shows. */
  get rendered(): { text: string; ariaLabel: string | undefined; tooltip: string } {
    const t = this.item.tooltip;
    return { text: this.item.text, ariaLabel: this.item.accessibilityInformation?.label, tooltip: typeof t === 'string' ? t : t?.value ?? '' };
  }
}
