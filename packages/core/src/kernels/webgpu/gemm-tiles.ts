/**
 * The shared-memory GEMM inner loop used by the convolution gradients: a workgroup of 16×16 threads computes a
 * 64×64 output tile, each thread a 4×4 block of it, over the reduction in steps of 16.
 *
 * Why these sizes: 64×64 tiles with 16-deep steps keep two 16×64 f32 tiles in workgroup memory (8 KiB, half the
 * 16 KiB WebGPU guarantees) while every loaded value is reused 64 times from shared memory; 4×4 register blocks
 * give 16 FMAs per 8 shared-memory reads. Thread (tx, ty) owns rows ty + 16·i and columns tx + 16·j (strided, not
 * contiguous), so the 16 threads of a row read one shared-memory word each (no bank conflicts) and write 16
 * consecutive output columns (coalesced).
 */
import { UNIFORM_WORKGROUP_ID, UNIFORM_WORKGROUP_ID_DECL } from './program.js';

/** Output tile rows (M) per workgroup. */
export const TILE_M = 64;
/** Output tile columns (N) per workgroup. */
export const TILE_N = 64;
/** Reduction depth loaded per step. */
export const TILE_K = 16;
/** Threads per workgroup side. */
export const GEMM_THREADS = 16;

/** One operand's tile load: which index runs fastest across threads, the guard, and the value (WGSL). */
export interface TileLoad {
  /** `k` when the operand is contiguous along the reduction (loaded transposed, with a padding column). */
  fastest: 'k' | 'mn';
  /** WGSL boolean of `m` or `n` (the tile row/column) and `k`: inside the operand. */
  inside: string;
  /** WGSL statements setting `v` from `m` or `n` and `k` (zero stays where the operand is padding). */
  value: string;
}

/** The parts of a tiled-GEMM shader that differ between the convolution gradients. */
export interface GemmShaderSpec {
  /** WGSL after the uniform workgroup id `wid` is read: must define `m0`, `n0`, `kBegin`, `kEnd`. */
  prelude: string;
  a: TileLoad;
  b: TileLoad;
  /** WGSL storing `acc[i][j]` for row `m` and column `n` (both already bounds-checked against `rows`/`cols`). */
  store: string;
  rows: string;
  cols: string;
}

function loadTile(name: 'As' | 'Bs', index: 'm' | 'n', origin: string, load: TileLoad): string {
  const width = index === 'm' ? TILE_M : TILE_N;
  const [fast, slow] = load.fastest === 'k' ? ['kk', 'mn'] : ['mn', 'kk'];
  const fastSize = load.fastest === 'k' ? TILE_K : width;
  return `
      for (var l = 0; l < ${LOADS_PER_THREAD}; l++) {
        let e = tid + l * 256;
        let ${fast} = e % ${fastSize};
        let ${slow} = e / ${fastSize};
        let ${index} = ${origin} + mn;
        let k = k0 + kk;
        var v = 0.0;
        if (${load.inside}) {
          ${load.value}
        }
        ${name}[kk][mn] = v;
      }`;
}

/**
 * A complete tiled-GEMM shader (C = Aᵀ·B over the reduction index k, see the module comment), with a uniform
 * workgroup id so the barrier-carrying loop may take its bounds from the grid. A tile loaded k-fastest gets one
 * padding column, so that 16 consecutive threads write 16 different shared-memory banks.
 */
export function gemmShader(spec: GemmShaderSpec): string {
  return `
  ${UNIFORM_WORKGROUP_ID_DECL}
  var<workgroup> As: array<array<f32, ${TILE_M + (spec.a.fastest === 'k' ? 1 : 0)}>, ${TILE_K}>;
  var<workgroup> Bs: array<array<f32, ${TILE_N + (spec.b.fastest === 'k' ? 1 : 0)}>, ${TILE_K}>;
  fn main() {
    ${UNIFORM_WORKGROUP_ID}
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let tid = ty * ${GEMM_THREADS} + tx;
    ${spec.prelude}
    var acc: array<array<f32, 4>, 4>;
    for (var k0 = kBegin; k0 < kEnd; k0 += ${TILE_K}) {
      ${loadTile('As', 'm', 'm0', spec.a)}
      ${loadTile('Bs', 'n', 'n0', spec.b)}
      workgroupBarrier();
      for (var kk = 0; kk < ${TILE_K}; kk++) {
        var a: array<f32, 4>;
        var b: array<f32, 4>;
        for (var i = 0; i < 4; i++) {
          a[i] = As[kk][ty + ${GEMM_THREADS} * i];
          b[i] = Bs[kk][tx + ${GEMM_THREADS} * i];
        }
        for (var i = 0; i < 4; i++) {
          for (var j = 0; j < 4; j++) {
            acc[i][j] = fma(a[i], b[j], acc[i][j]);
          }
        }
      }
      workgroupBarrier();
    }
    for (var i = 0; i < 4; i++) {
      let m = m0 + ty + ${GEMM_THREADS} * i;
      if (m >= ${spec.rows}) { continue; }
      for (var j = 0; j < 4; j++) {
        let n = n0 + tx + ${GEMM_THREADS} * j;
        if (n < ${spec.cols}) { ${spec.store} }
      }
    }
  }`;
}

/** Elements each thread loads per tile (64·16 / 256). */
const LOADS_PER_THREAD = (TILE_M * TILE_K) / (GEMM_THREADS * GEMM_THREADS);
