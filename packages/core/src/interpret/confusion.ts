/**
 * The confusion matrix as a readable SVG: class names on both axes, counts in the cells (fast.ai
 * `plot_confusion_matrix`: actual classes as rows, predictions as columns, "Blues" colours).
 */
import { blues, escapeXml, textWidth } from './svg.js';

/** Options of {@link confusionMatrixSvg}. */
export interface ConfusionMatrixSvgOptions {
  /** Default "Confusion matrix". */
  title?: string;
  /** Cell size in px. Default 64 (shrinks for many classes). */
  cell?: number;
  /** Font size in px. Default 14. */
  fontSize?: number;
  /** Show row-normalized fractions instead of counts. Default false. */
  normalize?: boolean;
}

/** An SVG document of confusion matrix `cm` (`cm[actual][predicted]`) with `classes` as labels. */
export function confusionMatrixSvg(
  cm: readonly (readonly number[])[],
  classes: readonly string[],
  opts: ConfusionMatrixSvgOptions = {},
): string {
  const n = classes.length;
  const fontSize = opts.fontSize ?? 14;
  const cell = opts.cell ?? Math.max(28, Math.min(64, Math.floor(640 / Math.max(1, n))));
  const title = opts.title ?? 'Confusion matrix';
  const values = cm.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (opts.normalize ? (total ? v / total : 0) : v));
  });
  const max = Math.max(1e-12, ...values.flat());
  const labelW = Math.max(...classes.map((c) => textWidth(c, fontSize)), textWidth('Actual', fontSize)) + 12;
  const left = fontSize * 2 + labelW;
  const top = fontSize * 3;
  const gridW = n * cell;
  const bottom = labelW + fontSize * 3;
  const titleHalf = textWidth(title, fontSize * 1.35) / 2 + fontSize * 1.5; // bold text runs wider than textWidth
  const width = Math.ceil(Math.max(left + gridW + fontSize * 2, left + gridW / 2 + titleHalf));
  const height = Math.ceil(top + gridW + bottom);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="${fontSize}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left + gridW / 2}" y="${fontSize * 1.8}" text-anchor="middle" font-size="${fontSize * 1.2}" font-weight="bold">${escapeXml(title)}</text>`,
  );
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = values[i]?.[j] ?? 0;
      const x = left + j * cell;
      const y = top + i * cell;
      const text = opts.normalize ? v.toFixed(2) : String(v);
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${blues(v / max)}" stroke="#cccccc" stroke-width="0.5"/>`,
        `<text x="${x + cell / 2}" y="${y + cell / 2 + fontSize * 0.35}" text-anchor="middle" fill="${v / max > 0.5 ? 'white' : 'black'}">${text}</text>`,
      );
    }
  }
  classes.forEach((c, i) => {
    const y = top + i * cell + cell / 2 + fontSize * 0.35;
    parts.push(`<text x="${left - 6}" y="${y}" text-anchor="end">${escapeXml(c)}</text>`);
    const x = left + i * cell + cell / 2 + fontSize * 0.35;
    const ty = top + gridW + 6;
    parts.push(`<text x="${x}" y="${ty}" text-anchor="end" transform="rotate(-90 ${x} ${ty})">${escapeXml(c)}</text>`);
  });
  parts.push(
    `<text x="${left + gridW / 2}" y="${top + gridW + labelW + fontSize * 2}" text-anchor="middle">Predicted</text>`,
    `<text x="${fontSize * 1.2}" y="${top + gridW / 2}" text-anchor="middle" transform="rotate(-90 ${fontSize * 1.2} ${top + gridW / 2})">Actual</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
