/**
 * `fastts train`'s training: fast.ai's fine-tuning phases (body frozen, then unfrozen with discriminative learning
 * rates), each a `fitOneCycle`, logging every batch and epoch and checkpointing at every epoch end so that a run
 * resumes after any death (Ctrl-C, a failure, SIGKILL, a crash).
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { ProgressCallback, type Callback, type FitLearner, type LrSpec as LearnerLr, type VisionLearner } from '@fastts/node-gpu';
import { formatLr } from '@fastts/core/platform';
import { parseLr } from '../args.js';
import { fitProgress, RunLogCallback } from '../fit-progress.js';
import type { Reporter } from '../output.js';
import type { Phase, ResumePoint, RunStatusFile } from '../run-dir.js';
import { CHECKPOINT_DIR, INTERRUPTED_CHECKPOINT, toLearnerLr, type TrainConfig } from './config.js';

/** Where training is, for the status file and for the failure handler. */
export interface TrainProgress {
  /** The phase running (or last run). */
  phase: Phase;
  /** Lines of batches.jsonl (training batches logged over the whole run). */
  iters: number;
  /** The latest resume point recorded in status.json (the last epoch's checkpoint, or the one resumed from). */
  point: ResumePoint | undefined;
  /** Every epoch of both phases is done (the results are being written). */
  trainingDone: boolean;
}

/** Metrics lines (epochs of the whole run) before `point`: every frozen epoch precedes the unfrozen ones. */
export function epochsBefore(point: Pick<ResumePoint, 'phase' | 'epoch'>, config: Pick<TrainConfig, 'epochs'>): number {
  return (point.phase === 'unfrozen' ? config.epochs : 0) + point.epoch;
}

/** The checkpoint name written after epoch `n` of the run (n epochs done over both phases). */
const epochCheckpoint = (n: number): string => `epoch-${n}`;

/**
 * Saves the training state at every epoch end as `checkpoints/epoch-<n>.safetensors` (atomically: the storage
 * writes a temporary file, flushes and renames it), then records it as the resume point in status.json, then
 * deletes the older checkpoints: until the new one is complete and recorded, the previous one stays. Runs after
 * the {@link RunLogCallback} has written the epoch's metrics line.
 */
export class EpochCheckpointCallback implements Callback {
  readonly name = 'EpochCheckpoint';
  readonly order = 80;

  constructor(
    private readonly runDir: string,
    private readonly phase: Phase,
    private readonly progress: TrainProgress,
    private readonly status: RunStatusFile,
    /** Training batches logged so far over the run. */
    private readonly iters: () => number,
  ) {}

  async afterEpoch(learn: FitLearner): Promise<void> {
    const name = epochCheckpoint(learn.epochsTrained);
    const file = await learn.save(name);
    const point: ResumePoint = {
      phase: this.phase,
      epoch: learn.epoch + 1,
      checkpoint: relative(this.runDir, file),
      iters: this.iters(),
    };
    this.progress.point = point;
    this.status.update({ resume: point });
    const dir = join(this.runDir, CHECKPOINT_DIR);
    for (const f of readdirSync(dir)) {
      if (f !== basename(file) && (/^epoch-\d+\.safetensors$/.test(f) || f === `${INTERRUPTED_CHECKPOINT}.safetensors`))
        rmSync(join(dir, f), { force: true });
    }
  }
}

/** What {@link trainPhases} needs. */
export interface PhasesSetup {
  learn: VisionLearner;
  config: TrainConfig;
  runDir: string;
  reporter: Reporter;
  signal: AbortSignal;
  status: RunStatusFile;
  progress: TrainProgress;
  /** Where a resumed run continues. */
  resume: ResumePoint | undefined;
}

/**
 * Phase 1, body frozen: `fitOneCycle(epochs, lr)`; phase 2, unfrozen: `fitOneCycle(unfreezeEpochs, unfreezeLr)`.
 * A resumed run loads its checkpoint (after unfreezing when it stopped in phase 2, so that the optimizer state fits)
 * and starts at its epoch, the schedule continuing where it was.
 */
export async function trainPhases(s: PhasesSetup): Promise<void> {
  const { learn, config, resume, progress } = s;
  const phases: Array<{ phase: Phase; epochs: number; lr: LearnerLr | undefined }> = [
    { phase: 'frozen', epochs: config.epochs, lr: config.lr === null ? undefined : toLearnerLr(parseLr(config.lr)) },
    { phase: 'unfrozen', epochs: config.unfreezeEpochs, lr: toLearnerLr(parseLr(config.unfreezeLr)) },
  ];
  let loaded = false;
  for (const p of phases) {
    if (resume && p.phase === 'frozen' && resume.phase === 'unfrozen') continue;
    progress.phase = p.phase;
    if (p.phase === 'unfrozen' && p.epochs > 0) learn.unfreeze();
    if (resume && !loaded) {
      await learn.load(basename(resume.checkpoint, '.safetensors'));
      loaded = true;
    }
    const start = resume && p.phase === resume.phase ? resume.epoch : 0;
    if (start >= p.epochs) continue;
    s.reporter.log(
      `${p.phase === 'frozen' ? 'body frozen, training the head' : 'unfrozen, training every layer'}: ` +
        `fitOneCycle(${p.epochs}${p.lr === undefined ? '' : `, ${formatLr(p.lr)}`})${start > 0 ? `, resuming at epoch ${start}` : ''}`,
    );
    const offset = progress.iters;
    const log = new RunLogCallback({ runDir: s.runDir, phase: p.phase, iterOffset: offset });
    const checkpoints = new EpochCheckpointCallback(s.runDir, p.phase, progress, s.status, () => offset + log.iters);
    try {
      await learn.fitOneCycle(p.epochs, {
        ...(start > 0 ? { startEpoch: start } : {}),
        ...(p.lr !== undefined ? { maxLr: p.lr } : {}),
        signal: s.signal,
        checkpointName: INTERRUPTED_CHECKPOINT,
        callbacks: [log, checkpoints, new ProgressCallback(fitProgress(s.reporter, p.phase))],
      });
    } finally {
      progress.iters = offset + log.iters;
    }
  }
  progress.trainingDone = true;
}
