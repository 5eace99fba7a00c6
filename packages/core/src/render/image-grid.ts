/**
 * A grid of images with titles as one self-contained SVG document (tiles embedded as PNG data URIs). Used by
 * `showBatch` and by interpretation's top-losses plot; platforms rasterize it (Node: `svgToPng` with sharp).
 */
import type { DecodedImage } from '../data/image.js';
import { pngDataUri } from './png.js';

/** One tile of an image grid. */
export interface GridTile {
  /** The image (shown at `tileSize`, aspect ratio kept). */
  image: DecodedImage;
  /** Title above the image; '\n' separates lines. */
  title?: string;
  /** Title colour (any SVG colour). Default '#111'. */
  titleColor?: string;
}

/** Layout options of {@link imageGridSvg}. */
export interface ImageGridOptions {
  /** Columns. Default: ceil(sqrt(number of tiles)). */
  cols?: number;
  /** Displayed side of each tile's image box in pixels. Default 224. */
  tileSize?: number;
  /** Title font size in pixels. Default 16. */
  fontSize?: number;
  /** Space between tiles in pixels. Default 12. */
  gap?: number;
  /** Heading of the whole grid, or none. */
  heading?: string;
  /** Background colour. Default 'white'. */
  background?: string;
}

/** Escapes text for SVG/XML content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch]!);
}

/** Builds the SVG text of an image grid. */
export function imageGridSvg(tiles: readonly GridTile[], opts: ImageGridOptions = {}): string {
  const n = tiles.length;
  const cols = Math.max(1, Math.min(opts.cols ?? Math.ceil(Math.sqrt(n)), Math.max(n, 1)));
  const rows = Math.max(1, Math.ceil(n / cols));
  const tile = opts.tileSize ?? 224;
  const font = opts.fontSize ?? 16;
  const gap = opts.gap ?? 12;
  const lineH = Math.round(font * 1.25);
  const titleLines = Math.max(1, ...tiles.map((t) => (t.title ? t.title.split('\n').length : 0)));
  const titleH = titleLines * lineH + 4;
  const headH = opts.heading ? Math.round(font * 1.6) + gap : 0;
  const cellW = tile;
  const cellH = titleH + tile;
  const width = gap + cols * (cellW + gap);
  const height = gap + headH + rows * (cellH + gap);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="${escapeXml(opts.background ?? 'white')}"/>`,
  ];
  if (opts.heading) {
    const size = fitFontSize([opts.heading], Math.round(font * 1.3), width - 2 * gap, 0.66); // bold runs wider
    parts.push(
      `<text x="${width / 2}" y="${gap + Math.round(font * 1.3)}" text-anchor="middle" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="${size}" font-weight="bold" fill="#111">${escapeXml(opts.heading)}</text>`,
    );
  }
  tiles.forEach((t, i) => {
    const x0 = gap + (i % cols) * (cellW + gap);
    const y0 = gap + headH + Math.floor(i / cols) * (cellH + gap);
    if (t.title) {
      const lines = t.title.split('\n');
      const tspans = lines
        .map((l, k) => `<tspan x="${x0 + cellW / 2}" y="${y0 + (k + 1) * lineH - 2}">${escapeXml(l)}</tspan>`)
        .join('');
      // long titles (long class names) shrink to the tile's width instead of running into the next tile
      const size = fitFontSize(lines, font, cellW);
      parts.push(
        `<text text-anchor="middle" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="${size}" fill="${escapeXml(t.titleColor ?? '#111')}">${tspans}</text>`,
      );
    }
    const { width: iw, height: ih } = t.image;
    const s = Math.min(tile / iw, tile / ih);
    const w = Math.round(iw * s);
    const h = Math.round(ih * s);
    const ix = x0 + Math.floor((tile - w) / 2);
    const iy = y0 + titleH + Math.floor((tile - h) / 2);
    parts.push(
      `<image x="${ix}" y="${iy}" width="${w}" height="${h}" preserveAspectRatio="none" href="${pngDataUri(t.image)}"/>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * The largest font size up to `font` at which every line fits `width` pixels (sans-serif glyphs average about
 * `em` of the font size), never below 8 px.
 */
function fitFontSize(lines: readonly string[], font: number, width: number, em = 0.6): number {
  const longest = Math.max(1, ...lines.map((l) => l.length));
  return Math.max(8, Math.min(font, Math.floor(width / (longest * em))));
}
