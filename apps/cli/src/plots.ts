/**
 * The learning-rate finder plot (fast.ai `recorder.plot()`): smoothed loss against learning rate on a log axis,
 * with the suggested learning rates marked. Plain SVG; node-gpu's `svgToPng` rasterizes it.
 */

/** Suggestions to mark on the plot. */
export interface LrMarks {
  lrSteep?: number | undefined;
  lrMin?: number | undefined;
  lrValley?: number | undefined;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `1e-3` style label for a power of ten. */
function powLabel(p: number): string {
  return `1e${p}`;
}

/** An SVG line chart of `losses` against `lrs` (log x axis), 640x420 px. */
export function lrFindSvg(lrs: readonly number[], losses: readonly number[], marks: LrMarks = {}): string {
  const W = 640;
  const H = 420;
  const m = { l: 70, r: 20, t: 40, b: 56 };
  const pts = lrs.map((lr, i) => [lr, losses[i]!] as const).filter(([lr, l]) => lr > 0 && Number.isFinite(l));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">`;
  const bg = `<rect width="${W}" height="${H}" fill="#fff"/>`;
  const title = `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Learning rate finder</text>`;
  if (pts.length < 2) {
    return `${head}${bg}${title}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="14">too few points to plot</text></svg>`;
  }
  const xs = pts.map(([lr]) => Math.log10(lr));
  const ys = pts.map(([, l]) => l);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  // Like fast.ai, let a diverging tail leave the plot rather than squash the interesting part.
  const yMin = Math.min(...ys);
  const yMax = Math.min(Math.max(...ys), yMin + 4 * (ys[0]! - yMin || 1));
  const pad = (yMax - yMin) * 0.05 || 0.05;
  const y0 = yMin - pad;
  const y1 = yMax + pad;
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const py = (y: number) => m.t + (1 - (Math.min(y, y1) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [head, bg, title];
  // axes and grid
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`);
  for (let p = Math.ceil(x0); p <= Math.floor(x1); p++) {
    const x = px(p).toFixed(1);
    parts.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${H - m.b + 18}" text-anchor="middle" font-size="12">${powLabel(p)}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    const y = py(v).toFixed(1);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${W - m.r}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 8}" y="${y}" dy="4" text-anchor="end" font-size="12">${v.toFixed(2)}</text>`);
  }
  parts.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 14}" text-anchor="middle" font-size="13">Learning Rate (log scale)</text>`,
  );
  parts.push(
    `<text x="18" y="${(m.t + H - m.b) / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${(m.t + H - m.b) / 2})">Loss</text>`,
  );
  const d = pts.map(([lr, l], i) => `${i ? 'L' : 'M'}${px(Math.log10(lr)).toFixed(1)},${py(l).toFixed(1)}`).join('');
  parts.push(`<path d="${d}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  const legend: string[] = [];
  const mark = (lr: number | undefined, color: string, name: string) => {
    if (lr === undefined || !(lr > 0)) return;
    const x = Math.log10(lr);
    if (x < x0 || x > x1) return;
    // the loss at the nearest recorded lr
    let best = 0;
    xs.forEach((v, i) => {
      if (Math.abs(v - x) < Math.abs(xs[best]! - x)) best = i;
    });
    parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(ys[best]!).toFixed(1)}" r="6" fill="${color}"/>`);
    legend.push(`<tspan fill="${color}">● ${esc(name)} ${lr.toExponential(2)}</tspan>`);
  };
  mark(marks.lrValley, '#2ca02c', 'valley');
  mark(marks.lrSteep, '#d62728', 'steep');
  mark(marks.lrMin, '#ff7f0e', 'min/10');
  if (legend.length)
    parts.push(`<text x="${W - m.r - 6}" y="${m.t + 18}" text-anchor="end" font-size="12">${legend.join('  ')}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
