/**
 * Ctrl-C during training: the run stops at the end of the current batch, writes a checkpoint, says where it is and
 * exits 130; `fastts train --resume <runDir>` continues from it to a finished run. The data set here holds one
 * corrupt image, which training skips with a warning naming it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORAEMON_WALLE, requireShared } from '../../test-support/shared.js';
import { collect, lines, runCli, startCli } from './run-cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-interrupt-'));
const DATA = join(TMP, 'data');
const RUN = join(TMP, 'run');
const CORRUPT = join(DATA, 'train', 'walle', 'zz-corrupt.jpg');

/** The tutorial's data set, linked file by file, plus one truncated JPEG in train/walle. */
function makeData(): void {
  for (const split of ['train', 'valid']) {
    for (const cls of ['doraemon', 'walle']) {
      const dir = join(DATA, split, cls);
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(join(DORAEMON_WALLE, split, cls)))
        symlinkSync(join(DORAEMON_WALLE, split, cls, f), join(dir, f));
    }
  }
  const jpeg = readFileSync(join(DORAEMON_WALLE, 'test', 'walle.113.jpg'));
  writeFileSync(CORRUPT, jpeg.subarray(0, Math.floor(jpeg.length / 3)));
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const batches = (): Array<{ iter: number; epoch: number; phase: string }> =>
  existsSync(join(RUN, 'batches.jsonl')) ? lines(readFileSync(join(RUN, 'batches.jsonl'), 'utf8')).map((l) => JSON.parse(l)) : [];

beforeAll(() => {
  requireShared();
  makeData();
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('Ctrl-C and --resume', () => {
  it('stops at the end of a batch with a checkpoint and exit 130, then --resume finishes the run', async () => {
    // One frozen epoch, then one unfrozen; Ctrl-C lands in the unfrozen phase, so resuming must unfreeze and reload.
    const args = [
      'train',
      DATA,
      '--arch',
      'mobilenet_v1_0.25_224',
      '--size',
      '64',
      '--bs',
      '32',
      '--epochs',
      '1',
      '--unfreeze-epochs',
      '1',
      '--seed',
      '7',
      '--backend',
      'wasm',
      '--out',
      RUN,
    ];
    const child = startCli(args, { cwd: TMP });
    const done = collect(child);
    const unfrozen = () => batches().filter((b) => b.phase === 'unfrozen').length;
    await waitFor(() => unfrozen() >= 2 || child.exitCode !== null, 600_000, 'two unfrozen training batches');
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    const stopped = await done;

    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/warning: skipped .*zz-corrupt\.jpg: /);
    expect(stopped.stderr).toContain('stopping at the end of the current batch');
    const last = lines(stopped.stderr).at(-1)!;
    expect(last).toMatch(
      /^interrupted: stopped by Ctrl-C during unfrozen epoch 0; the checkpoint is .*checkpoints\/interrupted\.safetensors; resume with: fastts train --resume /,
    );
    expect(stopped.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(RUN, 'checkpoints', 'interrupted.safetensors'))).toBe(true);
    const status = JSON.parse(readFileSync(join(RUN, 'status.json'), 'utf8'));
    expect(status).toMatchObject({ status: 'interrupted', resume: { phase: 'unfrozen', epoch: 0 } });
    expect(existsSync(join(RUN, 'model'))).toBe(false);
    const batchesBefore = batches().length;
    expect(lines(readFileSync(join(RUN, 'metrics.jsonl'), 'utf8')).map((l) => JSON.parse(l).phase)).toEqual(['frozen']);

    const resumed = await runCli(['train', '--resume', RUN, '--backend', 'wasm', '--json'], { cwd: TMP });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming: run');
    const result = JSON.parse(resumed.stdout);
    expect(result.epochs.map((e: { epoch: number; phase: string }) => [e.epoch, e.phase])).toEqual([
      [0, 'frozen'],
      [0, 'unfrozen'],
    ]);
    expect(lines(readFileSync(join(RUN, 'metrics.jsonl'), 'utf8'))).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(RUN, 'status.json'), 'utf8')).status).toBe('finished');
    expect(existsSync(join(RUN, 'model', 'export.safetensors'))).toBe(true);
    // the batch log continues where it stopped: iter counts up without restarting
    const after = batches();
    expect(after.length).toBeGreaterThan(batchesBefore);
    after.forEach((b, i) => expect(b.iter).toBe(i));
    expect(after.at(-1)!.phase).toBe('unfrozen');
    // a finished run cannot be resumed again
    const again = await runCli(['train', '--resume', RUN], { cwd: TMP });
    expect(again.code).toBe(2);
    expect(lines(again.stderr)).toEqual([
      expect.stringMatching(/^error: run '.*' has no checkpoint to resume from; it finished/),
    ]);
  }, 900_000);
});
