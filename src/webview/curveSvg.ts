/**
 * The anytime curve as plain inline SVG built with DOM calls (no HTML strings): best-so-far
 * confidence against tokens spent, the budget and the early-stop point marked. Colours come from
 * CSS classes bound to VS Code's chart variables.
 */
import { formatTokens } from '../core/tokens/amountText';
import type { CurveView } from '../core/view/runView';
import { niceCeil, svgEl } from './svg';

const HEIGHT = 168;
const MARGIN = { left: 40, right: 16, top: 12, bottom: 34 };

/** Redraws the curve into `svg` at the given pixel width. Cheap: called only when the curve or size changes. */
export function drawCurve(svg: SVGSVGElement, curve: CurveView, budgetTokens: number | null, width: number): void {
  const w = Math.max(240, Math.round(width));
  svg.setAttribute('viewBox', `0 0 ${w} ${HEIGHT}`);
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(HEIGHT));
  svg.replaceChildren();

  const points = curve.points;
  const lastTokens = points.length ? points[points.length - 1].tokens : 0;
  const xMax = niceCeil(Math.max(budgetTokens ?? 0, lastTokens, curve.earlyStop?.tokens ?? 0, 100));
  const plotW = w - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (tokens: number) => MARGIN.left + (Math.min(tokens, xMax) / xMax) * plotW;
  const y = (q: number) => MARGIN.top + (1 - Math.min(1, Math.max(0, q))) * plotH;

  const grid = svgEl('g', { class: 'curve-grid' });
  for (const q of [0, 0.5, 1]) {
    grid.append(svgEl('line', { x1: MARGIN.left, x2: w - MARGIN.right, y1: y(q), y2: y(q) }));
    grid.append(svgEl('text', { x: MARGIN.left - 6, y: y(q) + 4, 'text-anchor': 'end', class: 'curve-tick' }, `${q * 100}%`));
  }
  for (const t of [0, xMax / 2, xMax]) {
    grid.append(svgEl('text', { x: x(t), y: HEIGHT - MARGIN.bottom + 14, 'text-anchor': t === 0 ? 'start' : t === xMax ? 'end' : 'middle', class: 'curve-tick' }, formatTokens(t)));
  }
  grid.append(svgEl('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'curve-axis-label' }, 'tokens spent'));
  grid.append(svgEl('text', { x: 10, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', class: 'curve-axis-label', transform: `rotate(-90 10 ${MARGIN.top + plotH / 2})` }, 'confidence'));
  svg.append(grid);

  if (budgetTokens !== null && budgetTokens > 0) {
    const bx = x(budgetTokens);
    svg.append(svgEl('line', { x1: bx, x2: bx, y1: MARGIN.top, y2: MARGIN.top + plotH, class: 'curve-budget' }));
    svg.append(svgEl('text', { x: bx - 4, y: MARGIN.top + 10, 'text-anchor': 'end', class: 'curve-note' }, 'budget'));
  }

  if (points.length) {
    // Straight segments between checkpoints: the trapezoids the Anytime Index integrates.
    const d = points.map((p, i) => `${i ? 'L' : 'M'} ${x(p.tokens)} ${y(p.confidence)}`).join(' ');
    const area = `M ${x(points[0].tokens)} ${y(0)} ${d.replace(/^M/, 'L')} L ${x(lastTokens)} ${y(0)} Z`;
    svg.append(svgEl('path', { d: area, class: 'curve-area' }));
    svg.append(svgEl('path', { d, class: 'curve-line' }));
    points.forEach((p, i) => {
      const dot = svgEl('circle', {
        cx: x(p.tokens), cy: y(p.confidence), r: 3.5, class: 'curve-point',
        'data-tokens': p.tokens, 'data-confidence': p.confidence.toFixed(3),
      });
      dot.append(svgEl('title', {}, `answer ${i + 1}: ${Math.round(p.confidence * 100)}% at ${p.tokens.toLocaleString('en-US')} tokens`));
      svg.append(dot);
    });
  }

  if (curve.earlyStop) {
    const ex = x(curve.earlyStop.tokens);
    const ey = y(curve.earlyStop.confidence);
    const marker = svgEl('g', { class: 'curve-early-stop' });
    marker.append(svgEl('line', { x1: ex, x2: ex, y1: MARGIN.top, y2: MARGIN.top + plotH }));
    marker.append(svgEl('path', { d: `M ${ex} ${ey - 6} L ${ex + 6} ${ey} L ${ex} ${ey + 6} L ${ex - 6} ${ey} Z` }));
    const right = ex > MARGIN.left + plotW * 0.7;
    marker.append(svgEl('text', { x: right ? ex - 8 : ex + 8, y: MARGIN.top + plotH - 6, 'text-anchor': right ? 'end' : 'start' }, `stopped early at ${formatTokens(curve.earlyStop.tokens)}`));
    svg.append(marker);
  }
}
