/**
 * One point of `npm run bench -- --scaling`: fastts training (unfrozen) and inference with `--threads K` CPU threads,
 * in a process of its own so that its peak RSS is its own. Prints one JSON line.
 *
 *   npx tsx bench/scaling-point.ts --threads K [--arch resnet34] [--bs 16] [--size 224] [--steps 3] [--reps 3]
 */
import { setupBackend } from '@fastts/node-gpu';
import { planWorkers } from '@fastts/node-gpu/platform';
import { FasttsEngine, type Workload } from './engines.js';
import { spread } from './stats.js';

function arg(name: string, fallback: number | string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : String(fallback);
}
const threads = Number(arg('threads', 1));
const w: Workload = {
  arch: arg('arch', 'resnet34'),
  bs: Number(arg('bs', 16)),
  size: Number(arg('size', 224)),
  steps: Number(arg('steps', 3)),
};
const reps = Number(arg('reps', 3));

await setupBackend({ log: () => undefined });
// the layout fastts picks for a machine of `threads` cores: replicas x threads per replica
const plan = planWorkers({ cores: threads });
const engine = new FasttsEngine(w, {
  workers: plan.workers,
  threadsPerWorker: plan.threadsPerWorker,
  microBatch: Math.min(8, Math.ceil(w.bs / plan.workers)),
});
await engine.start();
const unfrozen: number[] = [];
const inference: number[] = [];
for (let r = 0; r < reps; r++) {
  const rep = await engine.run(['trainUnfrozen', 'inference']);
  unfrozen.push(rep.imgPerSec.trainUnfrozen!);
  inference.push(rep.imgPerSec.inference!);
}
const memory = engine.memory;
await engine.stop();
console.log(
  JSON.stringify({
    threads,
    layout: engine.description,
    trainUnfrozen: unfrozen,
    inference,
    trainUnfrozenMedian: spread(unfrozen)!.median,
    inferenceMedian: spread(inference)!.median,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    memory,
  }),
);
