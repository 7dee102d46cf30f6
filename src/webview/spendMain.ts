/**
 * The spend view's webview: keeps the last SpendSnapshot the host sent (checked on arrival), draws
 * it for the range and measure the user picked, and stores that choice with setState so a reloaded
 * window shows the same.
 */
import { parseSpendSnapshot, SPEND_METRICS, SPEND_RANGES, spendChart, type SpendSnapshot } from '../core/view/spendView';
import type { FromSpendViewMessage, ToSpendViewMessage } from '../protocol';
import { SpendDom, type SpendChoice } from './spendDom';

interface VsCodeApi<State> {
  postMessage(message: FromSpendViewMessage): void;
  getState(): State | undefined;
  setState(state: State): void;
}
declare function acquireVsCodeApi<State>(): VsCodeApi<State>;

const vscode = acquireVsCodeApi<SpendChoice>();
const root = document.getElementById('root');
if (!root) {
  throw new Error('spend view: #root is missing');
}

/** The stored choice is untrusted like any page state: only known ranges and measures survive. */
function storedChoice(): SpendChoice {
  const s = vscode.getState();
  const range = SPEND_RANGES.find((r) => r === s?.range) ?? 30;
  const metric = SPEND_METRICS.find((m) => m === s?.metric);
  return metric ? { range, metric } : { range };
}

let choice = storedChoice();
let snapshot: SpendSnapshot | undefined;
let drawnWidth = 0;
const dom = new SpendDom(root, (next) => {
  choice = next;
  vscode.setState(choice);
  render();
}, () => vscode.postMessage({ type: 'exportCsv' }));

function render(): void {
  if (snapshot) {
    drawnWidth = root!.clientWidth;
    dom.render(snapshot, spendChart(snapshot, choice.range, choice.metric), choice);
  }
}

window.addEventListener('message', (event: MessageEvent) => {
  const message = event.data as ToSpendViewMessage | null;
  if (message?.type === 'spendSnapshot') {
    const parsed = parseSpendSnapshot(message.snapshot);
    if (parsed) {
      snapshot = parsed;
      render();
    }
  }
});
new ResizeObserver(() => {
  if (Math.abs(root.clientWidth - drawnWidth) > 4) {
    render();
  }
}).observe(root);
vscode.postMessage({ type: 'spendReady' });
