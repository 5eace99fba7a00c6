/**
 * Ctrl-C in a library user's script (the tutorial: no signal handling of its own): the Node platform stops the fit
 * at the end of the current batch, saves `models/interrupted.safetensors`, prints one line saying so and exits 130 —
 * no stack trace, no lost work.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, WEIGHTS_HOME, requireShared } from '../../test-support/shared.js';

const out = mkdtempSync(join(tmpdir(), 'fastts-ctrl-c-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('Ctrl-C during a fit in a script', () => {
  it('stops at the end of the batch with a checkpoint and exits 130', async () => {
    requireShared();
    const args = [
      '--import',
      'tsx',
      join(REPO_ROOT, 'examples', 'tutorial.ts'),
      '--arch',
      'mobilenet_v1_0.25_224',
      '--size',
      '128',
      '--bs',
      '16',
      '--out',
      out,
    ];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, FASTTS_HOME: WEIGHTS_HOME, FASTTS_OFFLINE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // the epoch table's header is printed when the fit begins: interrupt a few batches in
      if (!sent && stdout.includes('train_loss')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 3000);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(sent, stdout).toBe(true);
    expect(code, `stderr:\n${stderr}`).toBe(130);
    expect(stderr).toContain('Ctrl-C: stopping at the end of this batch');
    expect(stderr).toMatch(
      /training interrupted at epoch 0, after batch \d+; the training state is saved in .*models\/interrupted\.safetensors/,
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(out, 'models', 'interrupted.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'export.safetensors'))).toBe(false);
  }, 600_000);
});
