/** Filters packed into the panels the SIMD GEMM kernels read (8 output lanes per panel row). */

/**
 * Packs the taps `taps` of a HWIO filter [kh·kw·Ci·Co] for the input gradient: panels [Ci8/8][taps][Co][8], i.e.
 * the filter with input and output channels swapped (input channels zero-padded to 8).
 */
export function packFilterTransposed(w: Float32Array, taps: readonly number[], ci: number, co: number): Float32Array {
  const ci8 = Math.ceil(ci / 8) * 8;
  const out = new Float32Array((ci8 / 8) * taps.length * co * 8);
  let o = 0;
  for (let q = 0; q < ci8; q += 8) {
    const width = Math.min(8, ci - q);
    for (const t of taps) {
      for (let c = 0; c < co; c++) {
        const src = (t * ci + q) * co + c;
        for (let lane = 0; lane < width; lane++) out[o + lane] = w[src + lane * co]!;
        o += 8;
      }
    }
  }
  return out;
}

/**
 * Packs a HWIO filter [taps·Ci·Co] into panels [Co8/8][taps][Ci][8] (output channels zero-padded to 8). Reads
 * the filter row by row (contiguous) and scatters each row's 8-float runs to the panels.
 */
export function packFilter(w: Float32Array, taps: number, ci: number, co: number): Float32Array {
  const co8 = Math.ceil(co / 8) * 8;
  const rows = taps * ci;
  const out = new Float32Array((co8 / 8) * rows * 8);
  const panel = rows * 8;
  for (let r = 0; r < rows; r++) {
    const src = r * co;
    let dst = r * 8;
    let j = 0;
    for (; j + 8 <= co; j += 8, dst += panel) {
      const s0 = src + j;
      out[dst] = w[s0]!;
      out[dst + 1] = w[s0 + 1]!;
      out[dst + 2] = w[s0 + 2]!;
      out[dst + 3] = w[s0 + 3]!;
      out[dst + 4] = w[s0 + 4]!;
      out[dst + 5] = w[s0 + 5]!;
      out[dst + 6] = w[s0 + 6]!;
      out[dst + 7] = w[s0 + 7]!;
    }
    for (let q = 0; j + q < co; q++) out[dst + q] = w[src + j + q]!;
  }
  return out;
}
