/**
 * Scatter panels for the benchmarks' plots, drawn as bench/results/strategies.svg is: a white page, a
 * title and a note, panels with a log x-axis of tokens and a linear y-axis of a share (0-1, ticks every
 * 0.05), one marker per configuration with its figures as a tooltip, and a legend along the bottom.
 */

export interface PlotPoint {
  x: number;
  y: number;
  color: string;
  /** Filled or hollow, as strategies.svg tells runs with and without the run budget apart. */
  filled: boolean;
  shape: 'circle' | 'diamond';
  /** Legend entry and tooltip. */
  label: string;
}

export interface PlotPanel {
  title: string;
  yLabel: string;
  points: readonly PlotPoint[];
}

export interface ScatterPlot {
  title: string;
  note: string;
  xLabel: string;
  panels: readonly PlotPanel[];
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function marker(p: Pick<PlotPoint, 'color' | 'filled' | 'shape'>, x: number, y: number, tip: string): string {
  const title = tip ? `<title>${escapeXml(tip)}</title>` : '';
  const paint = p.filled ? `fill="${p.color}" fill-opacity="0.85" stroke="#fff"` : `fill="#fff" stroke="${p.color}" stroke-width="2.5"`;
  if (p.shape === 'diamond') {
    return `<polygon points="${x},${y - 8} ${x + 8},${y} ${x},${y + 8} ${x - 8},${y}" ${paint}>${title}</polygon>`;
  }
  return `<circle cx="${x}" cy="${y}" r="${p.filled ? 6 : 5}" ${paint}>${title}</circle>`;
}

/** The panels side by side (two per row's width of 1000), sharing the x range; a legend row per four entries. */
export function scatterSvg(plot: ScatterPlot): string {
  const panelW = 380;
  const panelH = 340;
  const top = 70;
  const lefts = plot.panels.map((_, i) => 80 + i * 460);
  const width = Math.max(1000, lefts[lefts.length - 1] + panelW + 40);
  const all = plot.panels.flatMap((p) => p.points);
  const labels = [...new Map(all.map((p) => [p.label, p])).values()];
  const legendRows = Math.ceil(labels.length / 4);
  const height = top + panelH + 70 + legendRows * 24;
  const xs = all.map((p) => p.x).filter((x) => x > 0);
  const xMin = (xs.length ? Math.min(...xs) : 100) / 1.25;
  const xMax = (xs.length ? Math.max(...xs) : 1000) * 1.25;
  // Tokens may span a decade: a log axis keeps the cheap configurations apart.
  const xAt = (left: number, x: number) => left + ((Math.log(Math.max(x, xMin)) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * panelW;
  const xTicks = [30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 20000, 50000].filter((t) => t >= xMin && t <= xMax);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Liberation Sans, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(plot.title)}</text>`,
    `<text x="${width / 2}" y="44" text-anchor="middle" font-size="12" fill="#444">${escapeXml(plot.note)}</text>`,
  ];
  plot.panels.forEach((panel, i) => {
    const left = lefts[i];
    const ys = panel.points.map((p) => p.y);
    const yMin = ys.length ? Math.max(0, Math.floor((Math.min(...ys) - 0.03) * 20) / 20) : 0;
    const yMax = ys.length ? Math.min(1, Math.ceil((Math.max(...ys) + 0.02) * 20) / 20) : 1;
    const ySpan = Math.max(yMax - yMin, 0.05);
    const yAt = (y: number) => top + panelH - ((y - yMin) / ySpan) * panelH;
    parts.push(`<text x="${left + panelW / 2}" y="${top - 8}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`);
    parts.push(`<rect x="${left}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#333"/>`);
    for (const t of xTicks) {
      const x = xAt(left, t);
      parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + panelH}" stroke="#ddd"/>`);
      parts.push(`<text x="${x}" y="${top + panelH + 18}" text-anchor="middle">${t}</text>`);
    }
    for (let y = yMin; y <= yMin + ySpan + 1e-9; y += 0.05) {
      const t = Math.round(y * 100) / 100;
      parts.push(`<line x1="${left}" x2="${left + panelW}" y1="${yAt(t)}" y2="${yAt(t)}" stroke="#eee"/>`);
      parts.push(`<text x="${left - 8}" y="${yAt(t) + 4}" text-anchor="end">${t.toFixed(2)}</text>`);
    }
    parts.push(`<text x="${left + panelW / 2}" y="${top + panelH + 40}" text-anchor="middle">${escapeXml(plot.xLabel)}</text>`);
    parts.push(`<text transform="translate(${left - 50},${top + panelH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`);
    for (const p of panel.points) {
      parts.push(marker(p, xAt(left, p.x), yAt(p.y), `${p.label}: ${p.y.toFixed(3)} at ${p.x.toFixed(0)} tokens`));
    }
  });
  labels.forEach((p, i) => {
    const x = 40 + (i % 4) * 240;
    const y = top + panelH + 66 + Math.floor(i / 4) * 24;
    parts.push(marker(p, x, y, ''));
    parts.push(`<text x="${x + 14}" y="${y + 4}">${escapeXml(p.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
