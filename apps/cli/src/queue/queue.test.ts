import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redactRedisUrl, sweepCombinations } from '@fastts/core/runs';
import { listOf } from './commands.js';
import { scrubSecret } from './redis.js';
import { trainJobs } from './submit.js';
import { failureReason } from './worker.js';
import { planTrainJob, trainJobArgs } from './train-job.js';
import type { SubmitTrainOptions } from '../options.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-queue-unit-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const base: SubmitTrainOptions = {
  redis: 'redis://127.0.0.1:6379',
  arch: ['resnet34'],
  size: [224],
  epochs: [1],
  unfreezeEpochs: [0],
  unfreezeLr: { lo: 1e-5, hi: 3e-4 },
  train: 'train',
  valid: 'valid',
  test: 'test',
  bs: 64,
  pretrained: true,
  augment: true,
  rows: 3,
  topLosses: 9,
  runs: 'runs',
  attempts: 3,
};

describe('redis URLs', () => {
  it('redacts passwords in every form', () => {
    expect(redactRedisUrl('redis://:secret@host:6379/2')).toBe('redis://:***@host:6379/2');
    expect(redactRedisUrl('rediss://user:p%40ss@host')).toBe('rediss://user:***@host');
    expect(redactRedisUrl('redis://secret@host')).toBe('redis://***@host');
    expect(redactRedisUrl('redis://host:6379')).toBe('redis://host:6379');
    expect(scrubSecret('WRONGPASS secret given', 'redis://:secret@h')).toBe('WRONGPASS *** given');
  });
});

describe('sweeps', () => {
  it('expand comma lists into one job per combination, first option slowest, run folders named by job id', () => {
    expect(sweepCombinations({ a: [1, 2], b: ['x', 'y'] })).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
    ]);
    const jobs = trainJobs('/data/pets', { ...base, arch: ['a1', 'a2'], seed: [1, 2], lr: ['1e-3'] }, '/work', 'sweep-1');
    expect(jobs.map((j) => [j.id, j.data.options.arch, j.data.options.seed, j.data.options.lr])).toEqual([
      ['sweep-1-1', 'a1', 1, '1e-3'],
      ['sweep-1-2', 'a1', 2, '1e-3'],
      ['sweep-1-3', 'a2', 1, '1e-3'],
      ['sweep-1-4', 'a2', 2, '1e-3'],
    ]);
    expect(jobs[0]!.data).toMatchObject({ dataDir: '/data/pets', runDir: '/work/runs/sweep-1-1', sweepId: 'sweep-1' });
    expect(() => trainJobs('/d', { ...base, seed: [1, 2], out: 'x' }, '/w', 's')).toThrow(/--out names one run folder/);
    expect(listOf(Number)('1, 2,3')).toEqual([1, 2, 3]);
    expect(() => listOf(Number)('1,,2')).toThrow(/empty value/);
  });

  it('turn a job back into fastts train arguments', () => {
    const [job] = trainJobs(
      '/d',
      { ...base, arch: ['mobilenet_v1_0.25_224'], size: [64], seed: [3], pretrained: false },
      '/w',
      'train-1',
    );
    expect(trainJobArgs(job!.data.options)).toEqual(
      expect.arrayContaining([
        '--arch',
        'mobilenet_v1_0.25_224',
        '--size',
        '64',
        '--seed',
        '3',
        '--no-pretrained',
        '--unfreeze-lr',
        '0.00001:0.0003',
      ]),
    );
  });
});

describe('a training job on a worker', () => {
  it('starts a new run, or resumes the run an earlier attempt checkpointed (taking it over)', () => {
    const [job] = trainJobs('/d', base, TMP, 'train-2');
    const backend = { backend: 'wasm' as const, threads: 1 };
    expect(planTrainJob(job!.data, backend).args.slice(0, 2)).toEqual(['train', '/d']);
    const run = job!.data.runDir;
    mkdirSync(join(run, 'checkpoints'), { recursive: true });
    writeFileSync(join(run, 'checkpoints', 'epoch-1.safetensors'), '');
    const resume = { phase: 'frozen', epoch: 1, checkpoint: 'checkpoints/epoch-1.safetensors', iters: 8 };
    writeFileSync(
      join(run, 'status.json'),
      JSON.stringify({ status: 'running', pid: 999999, host: 'elsewhere', startedAt: '', updatedAt: '', resume }),
    );
    const plan = planTrainJob(job!.data, backend);
    expect(plan.args).toEqual(['train', '--resume', run, '--take-over', '--backend', 'wasm', '--threads', '1', '--json']);
    expect(plan.resumedFrom).toEqual({ phase: 'frozen', epoch: 1 });
  });

  it('fails with the CLI one-line message', () => {
    const json = { error: { message: "data folder '/x' does not exist; check the path", exitCode: 2 } };
    expect(failureReason({ code: 2, signal: null, json, stderrTail: [], resumedFrom: undefined })).toBe(
      "data folder '/x' does not exist; check the path",
    );
    expect(failureReason({ code: null, signal: 'SIGKILL', json: undefined, stderrTail: ['x'], resumedFrom: undefined })).toBe(
      'the training process was killed by SIGKILL',
    );
  });
});
