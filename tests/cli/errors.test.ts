/**
 * Each bad input prints one clear line (what is wrong; what to do) and the documented exit code: 2 for a wrong
 * command line (path, arch, option value, unwritable --out), 1 for a failure while running (no usable CUDA).
 * No stack trace unless --verbose.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORAEMON_WALLE, requireShared } from '../../test-support/shared.js';
import { lines, runCli } from './run-cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-errors-'));
const ARCH = 'mobilenet_v1_0.25_224';

beforeAll(() => requireShared());
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** Runs fastts and checks: the exit code, nothing on stdout, exactly one `error:` line on stderr matching `message`. */
async function expectError(args: string[], code: number, message: RegExp): Promise<string> {
  const r = await runCli(args, { cwd: TMP });
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe('');
  const err = lines(r.stderr);
  expect(err, r.stderr).toHaveLength(1);
  expect(err[0]).toMatch(/^error: /);
  expect(err[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return err[0]!;
}

describe('fastts error messages and exit codes', () => {
  it('wrong data path: exit 2, says it does not exist and what the folder should hold', async () => {
    await expectError(
      ['train', join(TMP, 'no-such-data')],
      2,
      /data folder '.*no-such-data' does not exist; give the folder that holds train\/<class>/,
    );
  });

  it('unknown architecture: exit 2, suggests the close names', async () => {
    const line = await expectError(
      ['train', DORAEMON_WALLE, '--arch', 'mobilenet_v1_025'],
      2,
      /unknown architecture 'mobilenet_v1_025'/,
    );
    expect(line).toMatch(/Did you mean .*'mobilenet_v1_0\.25_224'/);
    await expectError(['train', DORAEMON_WALLE, '--arch', 'resnet343'], 2, /Did you mean 'resnet34'/);
  });

  it('a folder without class subfolders: exit 2, says where the images must go', async () => {
    const data = join(TMP, 'flat');
    mkdirSync(join(data, 'train'), { recursive: true });
    mkdirSync(join(data, 'valid'), { recursive: true });
    for (const f of ['walle.113.jpg', 'doraemon.113.jpg']) {
      symlinkSync(join(DORAEMON_WALLE, 'test', f), join(data, 'train', f));
      symlinkSync(join(DORAEMON_WALLE, 'test', f), join(data, 'valid', f));
    }
    await expectError(
      ['train', data, '--arch', ARCH],
      2,
      /'.*flat\/train' has no class subfolders; put each class's images in its own folder, e\.g\. .*flat\/train\/<class>\/image\.jpg/,
    );
    // a folder of images given instead of the data folder
    await expectError(
      ['train', join(DORAEMON_WALLE, 'test'), '--arch', ARCH],
      2,
      /has no 'train' folder \(it has no subfolders\)/,
    );
  });

  it('an unwritable --out: exit 2, names the folder and the option', async () => {
    const blocker = join(TMP, 'blocker');
    writeFileSync(blocker, 'a file where a folder is needed');
    await expectError(
      ['train', DORAEMON_WALLE, '--arch', ARCH, '--backend', 'wasm', '--out', join(blocker, 'run')],
      2,
      /cannot write to --out '.*blocker\/run' \(a part of the path is a file\); choose a writable folder with --out/,
    );
    const locked = join(TMP, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    // root ignores permission bits: use a folder the kernel refuses to anyone instead
    const unwritable = process.getuid?.() === 0 ? '/proc/fastts-run' : join(locked, 'run');
    await expectError(
      ['train', DORAEMON_WALLE, '--arch', ARCH, '--backend', 'wasm', '--out', unwritable],
      2,
      /cannot write to --out '(.*fastts-run|.*locked\/run)' \(/,
    );
    await expectError(
      ['show-batch', DORAEMON_WALLE, '--out', join(blocker, 'b.png')],
      2,
      /cannot write to --out '.*blocker\/b\.png' \(its folder is a file\)/,
    );
  });

  it('--backend cuda without a usable CUDA stack: exit 1, says which piece is missing', async () => {
    const line = await expectError(
      ['train', DORAEMON_WALLE, '--arch', ARCH, '--backend', 'cuda', '--out', join(TMP, 'cuda-run')],
      1,
      /tfjs-node-gpu|CUDA|cuda/,
    );
    // which piece is missing (the package, its native addon, libtensorflow, the driver, the CUDA libraries) and what to do
    expect(line).toMatch(/not installed|addon|libtensorflow|driver|CUDA 11|cuDNN|no op on a GPU/);
    expect(line).toMatch(/npm |install|apt|LD_LIBRARY_PATH|--backend/);
    expect(existsSync(join(TMP, 'cuda-run')), 'no empty run folder is left behind').toBe(false);
  });

  it('missing pretrained weights with FASTTS_OFFLINE=1: exit 1, names the file and where to put it', async () => {
    const home = join(TMP, 'empty-home');
    mkdirSync(home);
    const r = await runCli(['train', DORAEMON_WALLE, '--arch', 'resnet18', '--backend', 'wasm', '--out', join(TMP, 'r18')], {
      cwd: TMP,
      env: { FASTTS_HOME: home },
    });
    expect(r.code).toBe(1);
    const err = lines(r.stderr).filter((l) => l.startsWith('error:'));
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /pretrained weights for 'resnet18' are not in .*empty-home\/models\/resnet18 and downloading is disabled \(FASTTS_OFFLINE=1\)/,
    );
    expect(err[0]).toMatch(/resnet18-f37072fd\.pth -> .*empty-home\/models\/resnet18\/resnet18-f37072fd\.pth/);
    expect(JSON.parse(readFileSync(join(TMP, 'r18', 'status.json'), 'utf8')).status).toBe('failed');
  });

  it('a bad option value: exit 2 with the reason and where to read more', async () => {
    await expectError(
      ['train', DORAEMON_WALLE, '--lr', 'fast'],
      2,
      /option '--lr <n\|lo:hi>' argument 'fast' is invalid.*such as 1e-5:3e-4; run 'fastts train --help' for usage/,
    );
    await expectError(['train', DORAEMON_WALLE, '--valid-pct', '20'], 2, /between 0 and 1/);
    await expectError(['tarin'], 2, /unknown command 'tarin' \(Did you mean train\?\)/);
  });

  it('--json keeps stdout to one JSON object on failure too', async () => {
    const r = await runCli(['train', join(TMP, 'missing'), '--json'], { cwd: TMP });
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.error.exitCode).toBe(2);
    expect(out.error.message).toMatch(/does not exist/);
  });

  it('--verbose adds the stack trace', async () => {
    const r = await runCli(['train', join(TMP, 'missing'), '--verbose'], { cwd: TMP });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)[0]).toMatch(/^error: data folder/);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('help and version exit 0', async () => {
    const help = await runCli(['train', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
