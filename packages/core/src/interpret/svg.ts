/** Small helpers for writing SVG by hand. */

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Approximate rendered width of `text` at `fontSize` in a sans-serif font (for layout only). */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/** matplotlib's "Blues" colormap at `t` in [0, 1] (linear between its 9 anchor colours), as `#rrggbb`. */
export function blues(t: number): string {
  const stops = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  const ch = (s: string, k: number) => parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16);
  const hex = [0, 1, 2]
    .map((k) =>
      Math.round(ch(a, k) + (ch(b, k) - ch(a, k)) * f)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('');
  return `#${hex}`;
}
