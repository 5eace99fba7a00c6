/**
 * `npm run bench -- --scaling`: fastts training throughput and peak RSS with 1, 2, … N CPU threads (N = the cores,
 * or `--threads-max`), each in a process of its own, and the input pipeline's own img/s with N threads. One batch
 * size for every point (default max(16, 4·N): every thread has images to work on at N threads).
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test-support/shared.js';
import { runJsonScript } from './child.js';
import { fmtSpread, round, spread, table } from './stats.js';

export interface ScalingOptions {
  arch: string;
  bs: number;
  size: number;
  steps: number;
  reps: number;
  maxThreads: number;
  log(line: string): void;
}

interface Point {
  threads: number;
  layout: string;
  trainUnfrozen: number[];
  inference: number[];
  trainUnfrozenMedian: number;
  inferenceMedian: number;
  peakRssMb: number;
}

/** The default thread counts: 1, 2, 4, 8, … and N itself. */
export function threadCounts(max: number): number[] {
  const out: number[] = [];
  for (let k = 1; k < max; k *= 2) out.push(k);
  out.push(max);
  return out;
}

export async function runScaling(o: ScalingOptions): Promise<void> {
  const { log } = o;
  log(`fastts CPU scaling: ${o.arch}, ${o.size} px, batch ${o.bs}, ${o.steps} timed steps x ${o.reps} repetitions per point`);
  log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const points: Point[] = [];
  for (const threads of threadCounts(o.maxThreads)) {
    const t0 = performance.now();
    const r = await runJsonScript<Point>(join(REPO_ROOT, 'bench', 'scaling-point.ts'), [
      ...['--threads', String(threads), '--arch', o.arch, '--bs', String(o.bs), '--size', String(o.size)],
      ...['--steps', String(o.steps), '--reps', String(o.reps)],
    ]);
    if ('error' in r) {
      log(`  ${threads} threads: failed (${r.error})`);
      continue;
    }
    points.push(r.value);
    log(
      `  ${threads} thread${threads === 1 ? '' : 's'}: train unfrozen ${fmtSpread(spread(r.value.trainUnfrozen))} img/s, ` +
        `inference ${fmtSpread(spread(r.value.inference))} img/s, peak RSS ${r.value.peakRssMb} MB ` +
        `(${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(1)}; ${r.value.layout})`,
    );
  }
  const pipe = await runJsonScript<{ epoch1ImgPerSec: number; epoch2ImgPerSec: number; threads?: number }>(
    join(REPO_ROOT, 'packages', 'node-gpu', 'bench', 'input-pipeline.ts'),
    ['--bs', '64', '--size', String(o.size), '--threads', String(o.maxThreads)],
  );
  const one = points.find((p) => p.threads === 1);
  log('');
  log(
    table(
      ['threads', 'train img/s', 'speed-up', 'efficiency', 'inference img/s', 'peak RSS MB'],
      points.map((p) => {
        const up = one ? p.trainUnfrozenMedian / one.trainUnfrozenMedian : NaN;
        return [
          String(p.threads),
          p.trainUnfrozenMedian.toFixed(2),
          up.toFixed(2),
          (up / p.threads).toFixed(2),
          p.inferenceMedian.toFixed(2),
          String(p.peakRssMb),
        ];
      }),
    ),
  );
  if ('error' in pipe) log(`input pipeline: could not run (${pipe.error})`);
  else
    log(
      `input pipeline with ${o.maxThreads} threads (decode + augment, cold): ${pipe.value.epoch1ImgPerSec.toFixed(1)} img/s; warm (augment only): ${pipe.value.epoch2ImgPerSec.toFixed(1)} img/s`,
    );
  log(
    `load average now ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    JSON.stringify({
      bench: 'resnet-cpu-scaling',
      arch: o.arch,
      size: o.size,
      bs: o.bs,
      steps: o.steps,
      reps: o.reps,
      cores: cpus().length,
      points: points.map((p) => ({
        threads: p.threads,
        layout: p.layout,
        train_unfrozen_img_s: p.trainUnfrozen.map((v) => round(v)),
        train_unfrozen_median: round(p.trainUnfrozenMedian),
        speedup: one ? round(p.trainUnfrozenMedian / one.trainUnfrozenMedian) : null,
        inference_img_s: p.inference.map((v) => round(v)),
        peak_rss_mb: p.peakRssMb,
      })),
      input_pipeline:
        'error' in pipe
          ? null
          : { threads: o.maxThreads, cold_img_s: pipe.value.epoch1ImgPerSec, warm_img_s: pipe.value.epoch2ImgPerSec },
      load_average: loadavg().map((l) => round(l, 2)),
    }),
  );
}
