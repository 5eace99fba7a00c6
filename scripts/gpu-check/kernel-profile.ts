/**
 * Per-kernel profile of one training step, tfjs-backend-webgpu's kernels against fastts': records every
 * convolution-gradient and BatchNorm call of a real step (shapes and attributes), then replays each distinct call
 * on random tensors with either kernel set installed and times it — wall time from submission to
 * `queue.onSubmittedWorkDone()` (works on every adapter; timestamp queries are not needed).
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain } from '@fastts/core/kernels';
import { registerWebgpuKernels, unregisterWebgpuKernels } from '@fastts/core/kernels/webgpu';

/** One kernel of the table: total milliseconds per training step with each kernel set. */
export interface KernelProfileRow {
  kernel: string;
  /** Calls per step (and distinct shapes among them). */
  calls: number;
  shapes: number;
  tfjsMs: number;
  fasttsMs: number;
  speedup: number;
}

interface Call {
  kernel: string;
  shapes: number[][];
  attrs: Record<string, unknown>;
  count: number;
}

const RECORDED = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'FasttsBatchNormStats'];

/** Runs `step` once with recording wrappers on the kernels of interest; returns the distinct calls. */
export async function recordCalls(step: () => Promise<void>): Promise<Call[]> {
  const calls = new Map<string, Call>();
  const saved: tf.KernelConfig[] = [];
  for (const name of RECORDED) {
    const k = tf.getKernel(name, 'webgpu');
    if (!k) continue;
    saved.push(k);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const inputs = Object.values(args.inputs) as tf.TensorInfo[];
        const shapes = inputs.map((t) => [...t.shape]);
        const key = `${name}:${JSON.stringify(shapes)}:${JSON.stringify(args.attrs)}`;
        const c = calls.get(key) ?? { kernel: name, shapes, attrs: { ...args.attrs }, count: 0 };
        c.count++;
        calls.set(key, c);
        return k.kernelFunc(args);
      },
    });
  }
  try {
    await step();
  } finally {
    for (const k of saved) {
      tf.unregisterKernel(k.kernelName, 'webgpu');
      tf.registerKernel(k);
    }
  }
  return [...calls.values()];
}

/**
 * Waits until the GPU has run everything queued: reading a tensor makes tfjs end its open compute pass, submit,
 * and wait for the queue (calling `submitQueue()` directly would submit with the pass still open: invalid).
 */
async function gpuIdle(): Promise<void> {
  const t = tf.add(tf.scalar(1), 1);
  await t.data();
  t.dispose();
  await (
    tf.backend() as unknown as { device: { queue: { onSubmittedWorkDone(): Promise<void> } } }
  ).device.queue.onSubmittedWorkDone();
}

/** The work one recorded call stands for; BatchNorm is timed as statistics + forward + backward (the whole op). */
function replay(c: Call): { run: () => void; inputs: tf.Tensor[] } {
  const inputs = c.shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', i + 1));
  if (c.kernel === 'FasttsBatchNormStats') {
    const x = inputs[0]!;
    const ch = x.shape[x.shape.length - 1]!;
    const [gamma, beta, dy] = [tf.ones([ch]), tf.zeros([ch]), tf.randomNormal(x.shape, 0, 1, 'float32', 9)];
    inputs.push(gamma, beta, dy);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const r = batchNormTrain(a, g, b, 1e-5);
      tf.dispose([r.mean, r.variance]);
      return tf.sum(tf.mul(r.y, dy));
    };
    return { run: () => tf.dispose(tf.grads(f)([x, gamma, beta])), inputs };
  }
  const names = c.kernel === 'Conv2DBackpropInput' ? ['dy', 'filter'] : ['x', 'dy'];
  const named = Object.fromEntries(names.map((n, i) => [n, inputs[i]!]));
  return { run: () => tf.dispose(tf.engine().runKernel(c.kernel, named, c.attrs as tf.NamedAttrMap) as tf.Tensor), inputs };
}

async function timeCall(c: Call, reps: number): Promise<number> {
  const { run, inputs } = replay(c);
  run(); // compile
  await gpuIdle();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) run();
  await gpuIdle();
  const ms = (performance.now() - t0) / reps;
  tf.dispose(inputs);
  return ms;
}

/** Times every recorded call with tfjs' kernels and with fastts' and sums them per kernel. */
export async function profileKernels(calls: Call[], reps = 3): Promise<KernelProfileRow[]> {
  const rows = new Map<string, KernelProfileRow>();
  for (const fastts of [false, true]) {
    if (fastts) registerWebgpuKernels();
    else unregisterWebgpuKernels();
    for (const c of calls) {
      const label = c.kernel === 'FasttsBatchNormStats' ? 'BatchNorm train (stats+fwd+bwd)' : c.kernel;
      const ms = (await timeCall(c, reps)) * c.count;
      const row = rows.get(label) ?? { kernel: label, calls: 0, shapes: 0, tfjsMs: 0, fasttsMs: 0, speedup: 0 };
      if (fastts) row.fasttsMs += ms;
      else {
        row.tfjsMs += ms;
        row.calls += c.count;
        row.shapes++;
      }
      rows.set(label, row);
    }
  }
  registerWebgpuKernels();
  return [...rows.values()].map((r) => ({
    ...r,
    tfjsMs: round(r.tfjsMs),
    fasttsMs: round(r.fasttsMs),
    speedup: round(r.tfjsMs / r.fasttsMs),
  }));
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** The table as text. */
export function formatProfile(rows: KernelProfileRow[]): string {
  const head = ['kernel', 'calls/step', 'tfjs ms/step', 'fastts ms/step', 'speed-up'];
  const body = rows.map((r) => [
    r.kernel,
    `${r.calls} (${r.shapes} shapes)`,
    r.tfjsMs.toFixed(2),
    r.fasttsMs.toFixed(2),
    `${r.speedup.toFixed(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
