/**
 * ONNX Runtime's CPU kernels (MLAS: AVX-512 / AVX2 / NEON GEMMs) under the wasm engine's convolutions, on Node.
 * WebAssembly SIMD is 128 bits wide; on a CPU with AVX-512 ONNX Runtime's GEMM runs a 1×1 convolution 2-3× faster
 * than the wasm engine (`packages/node-gpu/bench/conv-layers.ts --ort`). The wasm engine keeps what it does as well
 * or better: Winograd's 3×3 stride-1 convolutions on large images.
 *
 * Which convolutions go native (see {@link OrtConvolutions.accepts}): 1×1 convolutions (every op), strided
 * convolutions (every op) and the forward and input gradient of 3×3 stride-1 convolutions on images of at most
 * 14×14 (through a GEMM over windows), and, where both channel counts are whole NCHWc blocks (16 with AVX-512), the
 * forward and stride-1 input gradient of k×k convolutions whose output is at least 14×14 (through ONNX Runtime's
 * blocked direct convolution), all with at least 16 input channels (the stem's 3 stay on wasm). Each distinct (op, geometry) gets a small ONNX Runtime session (conv-graphs.ts), created on first use
 * and kept; calls are synchronous (the tfjs kernels that use them are), through onnxruntime-node's native binding.
 * Operands are read from and written to the wasm heap in place (copied when the heap is shared memory, which the
 * binding does not take).
 *
 * On by default in `setupBackend` and in every training worker when `onnxruntime-node` is installed; env
 * `FASTTS_NATIVE_CONV=0` keeps every convolution on the wasm engine. Each op matches the wasm engine's result to
 * float rounding (tests) and gives the same bits run after run; whole-model results agree to rounding, not bit for
 * bit: where a network's gradient is not continuous in its input (a ReLU gate or a max-pool's choice on a tie
 * within rounding: a randomly initialised ResNet-18 on 32 px images is such a point about one time in four, where
 * a 1e-6 relative change of the input moves its gradients by 5-10% on the wasm engine alone), the two engines may
 * land on either side, as PyTorch's CPU and GPU kernels do.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  setNativeConvolutions,
  type ConvGeometry,
  type NativeConvCall,
  type NativeConvFusion,
  type NativeConvOp,
  type NativeConvolutions,
} from '@fastts/core/kernels';
import { convGraph, nchwcBlockGraph, nchwcConvGraph, type ConvGraph } from './conv-graphs.js';
import { ORT_MODULE } from './runtime.js';

/** The synchronous session of onnxruntime-node's native binding (what its `InferenceSession.run` wraps). */
interface BindingSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, unknown>, options: object): unknown;
  dispose?(): void;
}

/** The parts of onnxruntime-node used here. */
interface SyncRuntime {
  newSession(): BindingSession;
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

/** Sessions kept at most (distinct op × geometry × batch): far more than a network has. */
const MAX_SESSIONS = 512;

/** Output bytes of one ONNX Runtime call at most, where the op splits by images (see {@link OrtConvolutions.run}). */
const CHUNK_BYTES = 4 * 2 ** 20;

/** Environment variable that turns native convolutions off (`0`; see the module comment). */
export const NATIVE_CONV_ENV = 'FASTTS_NATIVE_CONV';

/** V8's collector, as the `gc` that `--expose-gc` defines. */
type Collect = (options: { type: 'minor' }) => void;

/**
 * V8's `gc` (for young-generation collections, see {@link OrtConvolutions.run}): the global one when Node runs with
 * `--expose-gc`, else read from a new context with the flag set for that moment, as Jest's leak detection does;
 * null where neither works.
 */
export function v8Collector(): Collect | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as Collect;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    return null;
  }
}

/** ONNX Runtime as a {@link NativeConvolutions} provider. */
export class OrtConvolutions implements NativeConvolutions {
  readonly name = 'onnxruntime';
  private readonly sessions = new Map<string, { session: BindingSession; graph: ConvGraph }>();
  private readonly collect = v8Collector();

  constructor(
    private readonly runtime: SyncRuntime,
    /** Intra-op threads of each session: the threads of the wasm replica it serves. */
    readonly threads: number,
    /** MLAS' NCHWc block size ({@link nchwcBlockSize}), or null: no op takes the blocked direct convolution. */
    public block: number | null = null,
  ) {}

  /**
   * Whether `op` runs on ONNX Runtime's blocked (NCHWc) direct convolution, filter as an input (conv-graphs.ts
   * `nchwcConvGraph`): the forward of k×k convolutions and the input gradient of stride-1 ones, with channels in whole
   * blocks, where the op's output is at least 14×14. There it beats the wasm engine's Winograd and the GEMM over
   * windows (3×3, batch 8, one thread: forward 12.1 vs 14.6 ms at 56×56, 10.4 vs 12.5 at 14×14; ResNet-34 training
   * about 5% faster, `npm run bench`); on 7×7 images it does not (input gradient 19.8 vs 13.9 ms).
   */
  private blocked(op: NativeConvOp, g: ConvGeometry): boolean {
    const b = this.block;
    if (b === null || g.inChannels % b !== 0 || g.outChannels % b !== 0) return false;
    if (g.filterHeight * g.filterWidth === 1 || g.dilationHeight !== 1 || g.dilationWidth !== 1) return false;
    if (g.padTop < 0 || g.padLeft < 0 || g.padTop >= g.filterHeight || g.padLeft >= g.filterWidth) return false;
    if (op === 'forward') return g.outHeight * g.outWidth >= 196;
    if (op !== 'inputGradient' || g.strideHeight !== 1 || g.strideWidth !== 1 || g.inHeight * g.inWidth < 196) return false;
    // the input gradient's padding (k-1-p on each side) must not be negative
    const pb = g.outHeight - 1 + g.filterHeight - g.inHeight - g.padTop;
    const pr = g.outWidth - 1 + g.filterWidth - g.inWidth - g.padLeft;
    return pb >= 0 && pr >= 0 && pb < g.filterHeight && pr < g.filterWidth;
  }

  accepts(op: NativeConvOp, g: ConvGeometry, fusion: NativeConvFusion): boolean {
    if (op !== 'forward' && (fusion.bias || fusion.act !== 0)) return false;
    if (this.blocked(op, g)) return true;
    if (g.dilationHeight !== 1 || g.dilationWidth !== 1) return false;
    // narrow inputs (a stem's 3 channels): the wasm engine reads a filter row's taps as one run, faster than
    // the GEMM over k·k windows of 3 channels each
    if (g.inChannels < 16) return false;
    if (op !== 'forward' && (fusion.bias || fusion.act !== 0)) return false;
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
    if (pt < 0 || pl < 0 || pt >= kh || pl >= kw) return false;
    const pointwise = kh === 1 && kw === 1;
    const strided = sh > 1 || sw > 1;
    if (pointwise) {
      if (op !== 'inputGradient' || !strided) return true;
      return g.outHeight * sh >= g.inHeight && g.outWidth * sw >= g.inWidth;
    }
    if (strided) {
      if (op !== 'inputGradient') return true;
      const pb = Math.max(0, (g.outHeight - 1) * sh + kh - g.inHeight - pt);
      const pr = Math.max(0, (g.outWidth - 1) * sw + kw - g.inWidth - pl);
      const oph = g.inHeight - ((g.outHeight - 1) * sh + kh - pt - pb);
      const opw = g.inWidth - ((g.outWidth - 1) * sw + kw - pl - pr);
      return oph >= 0 && oph < sh && opw >= 0 && opw < sw;
    }
    // stride 1: the wasm engine's Winograd wins on large images; its weight gradient everywhere
    return kh === 3 && kw === 3 && op !== 'filterGradient' && g.outHeight <= 14 && g.outWidth <= 14;
  }

  run(call: NativeConvCall): void {
    const { op, geometry: g } = call;
    // onnxruntime-node returns every output as a fresh JS copy; a large one is fresh memory each call, and first
    // touches of pages are slow on some hosts (7-20 µs each on the development VM). Images in chunks of at most
    // CHUNK_BYTES of output keep each copy small, and a young-generation collection after each call frees it before
    // the next is made: left to V8, tens of MB of copies piled up between its collections and glibc gave them back
    // to the system at each one, so that the next calls faulted fresh pages in (17,000 faults per ResNet-34 forward
    // of 8 images, 0 with the collection; training 5-10% faster, `npm run bench`). The collection takes well under a
    // millisecond: little else lives in the young generation.
    const imageIn = op === 'filterGradient' ? 0 : call.a.length / g.batch;
    const imageOut = op === 'filterGradient' ? 0 : call.out.length / g.batch;
    const per = op === 'filterGradient' ? g.batch : Math.max(1, Math.min(g.batch, Math.floor(CHUNK_BYTES / (imageOut * 4))));
    for (let first = 0; first < g.batch; first += per) {
      const n = Math.min(per, g.batch - first);
      const part =
        op === 'filterGradient'
          ? call
          : {
              ...call,
              geometry: { ...g, batch: n },
              a: call.a.subarray(first * imageIn, (first + n) * imageIn),
              out: call.out.subarray(first * imageOut, (first + n) * imageOut),
            };
      this.runOnce(part);
      this.collect?.({ type: 'minor' });
    }
  }

  private runOnce(call: NativeConvCall): void {
    const { op, geometry: g, fusion } = call;
    const key = `${op} ${fusion.bias ? 'b' : ''}${fusion.act} ${g.batch} ${g.inHeight}x${g.inWidth}x${g.inChannels} ${g.outHeight}x${g.outWidth}x${g.outChannels} ${g.filterHeight}x${g.filterWidth} s${g.strideHeight},${g.strideWidth} p${g.padTop},${g.padLeft}`;
    const blocked = this.blocked(op, g);
    let entry = this.sessions.get(blocked ? 'nchwc ' + key : key);
    if (!entry) {
      if (this.sessions.size >= MAX_SESSIONS) this.clear();
      const graph =
        blocked && op !== 'filterGradient'
          ? nchwcConvGraph(op, g, this.block!, fusion.bias, fusion.act)
          : convGraph(op, g, fusion.bias, fusion.act);
      const session = this.runtime.newSession();
      const m = graph.model;
      session.loadModel(m.buffer as ArrayBuffer, m.byteOffset, m.byteLength, {
        executionProviders: ['cpu'],
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // several threads: ONNX Runtime's pool must not spin between calls, the replica's wasm threads need the cores
        ...(this.threads > 1 ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
      });
      entry = { session, graph };
      this.sessions.set(blocked ? 'nchwc ' + key : key, entry);
    }
    const { Tensor } = this.runtime;
    const plain = (v: Float32Array): Float32Array => (v.buffer instanceof ArrayBuffer ? v : v.slice());
    const values: Record<string, Float32Array | null> = { a: call.a, b: call.b, bias: call.bias };
    const feeds: Record<string, unknown> = {};
    for (const { name, dims } of entry.graph.inputs) feeds[name] = new Tensor('float32', plain(values[name]!), dims);
    const out = call.out.buffer instanceof ArrayBuffer ? call.out : new Float32Array(call.out.length);
    entry.session.run(feeds, { out: new Tensor('float32', out, entry.graph.outputDims) }, {});
    if (out !== call.out) call.out.set(out);
  }

  /** Releases every session. */
  clear(): void {
    for (const { session } of this.sessions.values()) session.dispose?.();
    this.sessions.clear();
  }

  /** Sessions held now. */
  get size(): number {
    return this.sessions.size;
  }
}

/** Whether native convolutions are wanted: unless env `FASTTS_NATIVE_CONV=0` turns them off. */
export function nativeConvolutionsRequested(): boolean {
  return process.env[NATIVE_CONV_ENV] !== '0';
}

/**
 * Loads onnxruntime-node's synchronous binding; null when the package is missing or its binding does not have the
 * shape this module was written against (then the wasm engine keeps every convolution).
 */
export async function loadSyncRuntime(): Promise<SyncRuntime | null> {
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve(`${ORT_MODULE}/package.json`));
    const { binding, initOrt } = require(join(root, 'dist', 'binding.js')) as {
      binding?: { InferenceSession?: new () => BindingSession };
      initOrt?: () => void;
    };
    const ort = (await import(ORT_MODULE)) as { Tensor?: SyncRuntime['Tensor']; default?: { Tensor?: SyncRuntime['Tensor'] } };
    const Tensor = ort.Tensor ?? ort.default?.Tensor;
    const Session = binding?.InferenceSession;
    if (typeof initOrt !== 'function' || typeof Session !== 'function' || typeof Tensor !== 'function') return null;
    initOrt();
    const probe = new Session();
    if (typeof probe.loadModel !== 'function' || typeof probe.run !== 'function') return null;
    return { newSession: () => new Session(), Tensor };
  } catch {
    return null;
  }
}

/**
 * Registers ONNX Runtime as this thread's native convolution provider (see the module comment) with `threads`
 * intra-op threads, after checking it on a small convolution against a reference. Resolves with the provider, or
 * null when it is not enabled (`enabled`, default: unless env `FASTTS_NATIVE_CONV=0`), onnxruntime-node is not installed,
 * or the check fails (the wasm engine then keeps every convolution).
 */
export async function enableNativeConvolutions(
  threads: number,
  options: { enabled?: boolean } = {},
): Promise<OrtConvolutions | null> {
  if (!(options.enabled ?? nativeConvolutionsRequested())) {
    setNativeConvolutions(null);
    return null;
  }
  const runtime = await loadSyncRuntime();
  const provider = runtime ? new OrtConvolutions(runtime, threads, nchwcBlockSize(runtime)) : null;
  if (!provider || !selfCheck(provider)) {
    setNativeConvolutions(null);
    return null;
  }
  setNativeConvolutions(provider);
  return provider;
}

/**
 * MLAS' NCHWc block size on this CPU, from ONNX Runtime itself ({@link nchwcBlockGraph}); null when the probe fails
 * (an ONNX Runtime without its NCHWc ops): then no convolution takes the blocked path.
 */
export function nchwcBlockSize(runtime: SyncRuntime): number | null {
  try {
    const { model } = nchwcBlockGraph();
    const session = runtime.newSession();
    session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const out = session.run({ a: new runtime.Tensor('float32', new Float32Array(4), [1, 1, 1, 4]) }, { out: null }, {}) as Record<
      string,
      { dims?: readonly number[] }
    >;
    session.dispose?.();
    const block = out.out?.dims?.[1];
    return typeof block === 'number' && Number.isInteger(block) && block >= 4 && (block & (block - 1)) === 0 ? block : null;
  } catch {
    return null;
  }
}

/** Runs a 1×1 stride-2 forward convolution with bias + relu against a direct computation. */
function selfCheck(p: OrtConvolutions): boolean {
  const g = {
    batch: 1,
    inHeight: 4,
    inWidth: 4,
    inChannels: 3,
    outHeight: 2,
    outWidth: 2,
    outChannels: 2,
    filterHeight: 1,
    filterWidth: 1,
    strideHeight: 2,
    strideWidth: 2,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 0,
    padLeft: 0,
  };
  const a = Float32Array.from({ length: 48 }, (_, i) => ((i * 7) % 11) - 5);
  const b = Float32Array.from({ length: 6 }, (_, i) => i - 2.5);
  const bias = Float32Array.of(0.5, -1);
  const out = new Float32Array(8);
  try {
    p.run({ op: 'forward', geometry: g, fusion: { bias: true, act: 1 }, a, b, bias, out });
  } catch {
    return false;
  } finally {
    p.clear();
  }
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 2; x++) {
      for (let o = 0; o < 2; o++) {
        let s = bias[o]!;
        for (let c = 0; c < 3; c++) s += a[(y * 2 * 4 + x * 2) * 3 + c]! * b[c * 2 + o]!;
        if (Math.abs(out[(y * 2 + x) * 2 + o]! - Math.max(0, s)) > 1e-4) return false;
      }
    }
  }
  return true;
}
