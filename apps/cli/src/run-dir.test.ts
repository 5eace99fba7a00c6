import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';
import { UsageError } from './errors.js';
import {
  defaultRunDir,
  MetricsLog,
  predictionsCsv,
  prepareOutputDir,
  prepareOutputFile,
  readMetrics,
  timestamp,
} from './run-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'fastts-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('run directory', () => {
  it('names runs runs/<timestamp>-<arch> and never reuses a folder', () => {
    const date = new Date(2025, 0, 2, 3, 4, 5);
    expect(timestamp(date)).toBe('20250102-030405');
    const first = defaultRunDir('resnet34', tmp, date);
    expect(first).toBe(join(tmp, 'runs', '20250102-030405-resnet34'));
    prepareOutputDir(first);
    expect(defaultRunDir('resnet34', tmp, date)).toBe(`${first}-2`);
    expect(basename(defaultRunDir('a/b', tmp, date))).toBe('20250102-030405-a_b');
  });

  it('creates --out with its parents and leaves no probe file behind', () => {
    const dir = join(tmp, 'a', 'b', 'c');
    expect(prepareOutputDir(dir)).toBe(dir);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects an --out it cannot write with a usage error naming it', () => {
    const file = join(tmp, 'blocker');
    writeFileSync(file, 'x');
    expect(() => prepareOutputDir(join(file, 'run'))).toThrow(UsageError);
    expect(() => prepareOutputDir(join(file, 'run'))).toThrow(
      /cannot write to --out '.*blocker\/run' \(a part of the path is a file\)/,
    );
    expect(() => prepareOutputDir(file)).toThrow('is a file, not a folder');
    const locked = join(tmp, 'locked');
    prepareOutputDir(locked);
    chmodSync(locked, 0o500);
    try {
      if (process.getuid?.() !== 0) expect(() => prepareOutputDir(join(locked, 'run'))).toThrow('permission denied');
    } finally {
      chmodSync(locked, 0o700);
    }
    if (process.platform === 'linux') {
      // the kernel refuses folders in /proc to anyone, root included (and Node's recursive mkdir would hang there)
      expect(() => prepareOutputDir('/proc/fastts-run/x')).toThrow(
        "cannot write to --out '/proc/fastts-run/x' (the folder cannot be created there)",
      );
    }
    expect(() => prepareOutputFile(tmp)).toThrow('is a folder, expected a file name');
    expect(prepareOutputFile(join(tmp, 'new', 'plot.png'))).toBe(join(tmp, 'new', 'plot.png'));
    expect(existsSync(join(tmp, 'new'))).toBe(true);
  });

  it('appends one metrics line per epoch and reads them back', () => {
    const dir = join(tmp, 'metrics');
    prepareOutputDir(dir);
    const log = new MetricsLog(dir);
    expect(log.read()).toEqual([]);
    const row = {
      epoch: 0,
      phase: 'frozen' as const,
      train_loss: 0.5,
      valid_loss: 0.25,
      accuracy: 0.9,
      error_rate: 0.1,
      seconds: 12.5,
    };
    log.append(row);
    log.append({ ...row, epoch: 1 });
    const text = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(2);
    expect(readMetrics(dir)).toEqual([row, { ...row, epoch: 1 }]);
  });

  it('writes predictions as CSV with a header and quoted odd file names', () => {
    const csv = predictionsCsv([
      { file: 'test/a.jpg', label: 'walle', probability: 0.9876543 },
      { file: 'test/with,comma "q".jpg', label: 'doraemon', probability: 1 },
    ]);
    expect(csv.split('\n')[0]).toBe('file,label,probability');
    expect(parseCsv(csv)).toEqual([
      ['file', 'label', 'probability'],
      ['test/a.jpg', 'walle', '0.9876543'],
      ['test/with,comma "q".jpg', 'doraemon', '1'],
    ]);
  });
});
