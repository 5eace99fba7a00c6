import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentPlatform } from '@fastts/core/platform';
import { type ProgressEvent } from '@fastts/core';
import '../index.js';
import { configure, nodeDefaults } from './binding.js';
import { exitCodeFor, handleInterrupts } from './interrupts.js';
import { nodeStorage } from './storage.js';
import { terminalReporter } from './terminal-reporter.js';

const tmp = mkdtempSync(join(tmpdir(), 'fastts-platform-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const events: ProgressEvent[] = [
  { type: 'begin', names: ['epoch', 'train_loss'], header: 'epoch     train_loss', nEpoch: 1 },
  { type: 'batch', phase: 'train', epoch: 0, nEpoch: 1, iter: 0, nIter: 2, loss: 0.7 },
  { type: 'batch', phase: 'train', epoch: 0, nEpoch: 1, iter: 1, nIter: 2, loss: 0.5 },
  {
    type: 'epoch',
    row: { epoch: 0, trainLoss: 0.5, validLoss: 0.4, metrics: {}, seconds: 1 },
    cells: [],
    line: '0         0.500000',
  },
  { type: 'end', rows: [] },
];

/** A stream that records what is written. */
function sink(isTTY: boolean): { write(s: string): boolean; isTTY: boolean; text: string } {
  return {
    isTTY,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

describe('importing @fastts/node-gpu', () => {
  it('binds the Node platform into core (backend, storage, weights, output, Ctrl-C)', () => {
    const p = currentPlatform();
    expect(p.name).toBe('node');
    expect(typeof p.ready).toBe('function');
    expect(typeof p.storage?.writeFile).toBe('function');
    expect(typeof p.loadPretrained).toBe('function');
    expect(typeof p.reporter?.()).toBe('function');
  });

  it('configure() changes the defaults: quiet drops the output, interrupts: false the Ctrl-C handling', () => {
    const before = { ...nodeDefaults() };
    try {
      configure({ quiet: true, interrupts: false });
      expect(currentPlatform().reporter?.()).toBeUndefined();
      expect(currentPlatform().interrupts?.()).toBeUndefined();
    } finally {
      configure({ quiet: before.quiet ?? false, interrupts: before.interrupts ?? true });
    }
    const scope = currentPlatform().interrupts?.();
    expect(scope?.signal.aborted).toBe(false);
    scope?.release();
  });
});

describe('terminalReporter', () => {
  it('prints the epoch table and, off a terminal, nothing per batch', () => {
    const lines: string[] = [];
    const stream = sink(false);
    const report = terminalReporter({ print: (l) => lines.push(l), stream });
    events.forEach(report);
    expect(lines).toEqual(['epoch     train_loss', '0         0.500000']);
    expect(stream.text).toBe('');
  });

  it('draws a progress bar on a terminal and clears it at the epoch end', () => {
    const lines: string[] = [];
    const stream = sink(true);
    events.forEach(terminalReporter({ print: (l) => lines.push(l), stream, label: 'frozen' }));
    expect(stream.text).toContain('frozen epoch 1/1 train');
    expect(stream.text).toContain('2/2');
    expect(stream.text).toContain('loss 0.5000');
    expect(lines).toEqual(['epoch     train_loss', '0         0.500000']);
  });

  it('writes a plain line per training batch with verbose when there is no bar', () => {
    const stream = sink(false);
    events.forEach(terminalReporter({ print: () => undefined, stream, verbose: true }));
    expect(stream.text.trim().split('\n')).toHaveLength(2);
    expect(stream.text).toMatch(/epoch 1\/1 batch 2\/2 loss 0\.5000/);
  });
});

describe('handleInterrupts', () => {
  it('aborts on the first SIGINT, exits with 130 on a later one, and ignores a repeat of the same keypress', () => {
    const exits: number[] = [];
    const h = handleInterrupts({ exit: (c) => exits.push(c), sameKeypressMs: 60_000 });
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(h.signal.aborted).toBe(true);
      expect(h.by).toBe('Ctrl-C');
      process.emit('SIGINT', 'SIGINT'); // within the window: the same keypress relayed by npm/tsx
      expect(exits).toEqual([]);
    } finally {
      h.dispose();
    }
    const h2 = handleInterrupts({ exit: (c) => exits.push(c) });
    try {
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([143]);
      expect(h2.by).toBe('SIGTERM');
    } finally {
      h2.dispose();
    }
    expect(exitCodeFor('SIGINT')).toBe(130);
  });
});

describe('nodeStorage', () => {
  it('writes whole files atomically (no temporary file left), creates folders, appends, removes', async () => {
    const s = nodeStorage();
    const file = join(tmp, 'a', 'b', 'x.bin');
    await s.writeFile(file, new Uint8Array([1, 2, 3]));
    await s.writeFile(file, new Uint8Array([4, 5]));
    expect([...readFileSync(file)]).toEqual([4, 5]);
    expect(readdirSync(join(tmp, 'a', 'b'))).toEqual(['x.bin']);
    await s.appendFile!(file, new Uint8Array([6]));
    expect([...(await s.readFile(file))]).toEqual([4, 5, 6]);
    expect(await s.exists(file)).toBe(true);
    expect(await s.exists(join(tmp, 'a'))).toBe(false); // a folder is not a file
    await s.remove(file);
    expect(await s.exists(file)).toBe(false);
  });
});
