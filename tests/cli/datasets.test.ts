/**
 * `fastts datasets list|get` and `fastts train <name>` as a subprocess, with an empty FASTTS_HOME and a local mirror
 * on 127.0.0.1 (FASTTS_MIRROR) serving the doraemon-walle archive (rebuilt from ../shared in GitHub's layout) and
 * the mobilenet_v1_0.25_224 weights: nothing comes from the network.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDoraemonWalleArchive, startMirror, type DoraemonWalleArchive, type Mirror } from '../../test-support/mirror.js';
import { requireShared, SHARED_DIR } from '../../test-support/shared.js';
import { lines, runCli } from './run-cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-datasets-'));
const HOME = join(TMP, 'home');
const ARCH = 'mobilenet_v1_0.25_224';
const WEIGHTS = `storage.googleapis.com/tfjs-models/tfjs/${ARCH}/`;
let archive: DoraemonWalleArchive;
let mirror: Mirror;

/** The environment of a run with the empty cache, downloads allowed, through the mirror. */
const online = (): Record<string, string | undefined> => ({
  FASTTS_HOME: HOME,
  FASTTS_OFFLINE: undefined,
  FASTTS_MIRROR: mirror.url,
});

beforeAll(async () => {
  requireShared();
  archive = await buildDoraemonWalleArchive();
  mirror = await startMirror({ [archive.url]: archive.file, [WEIGHTS]: join(SHARED_DIR, 'models', ARCH) });
});

afterAll(async () => {
  await mirror?.close();
  archive?.remove();
  rmSync(TMP, { recursive: true, force: true });
});

describe('fastts datasets and fastts train <name>, through FASTTS_MIRROR', () => {
  it('offline with an empty cache: exit 1, one line saying what to download and where to put it', async () => {
    const r = await runCli(['datasets', 'get', 'doraemon-walle'], { cwd: TMP, env: { FASTTS_HOME: HOME } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(
      `error: data set 'doraemon-walle' is not in ${HOME}/data/doraemon-walle and downloading is disabled (FASTTS_OFFLINE=1). Download ${archive.url} and save it as ${HOME}/archive/doraemon-walle-05086ce.tar.gz`,
    );
    expect(r.stderr).toContain('or set FASTTS_MIRROR=<base URL>');
    expect(mirror.count()).toBe(0);
  });

  it('an unknown name: exit 2, suggests the close one', async () => {
    const r = await runCli(['datasets', 'get', 'doraemon_wale'], { cwd: TMP, env: online() });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      "error: unknown data set 'doraemon_wale'; did you mean 'doraemon-walle'? 'fastts datasets list' shows the registered names",
    ]);
    const t = await runCli(['train', 'imagenete-160', '--arch', ARCH], { cwd: TMP, env: online() });
    expect(t.code).toBe(2);
    expect(lines(t.stderr)).toEqual([
      expect.stringMatching(
        /^error: 'imagenete-160' is neither a folder nor a data set name; did you mean the data set 'imagenette2-160'/,
      ),
    ]);
    expect(mirror.count()).toBe(0);
  });

  it('fastts train <name> downloads the data set and the weights once; datasets get then makes no request', async () => {
    const run = join(TMP, 'run');
    const args = [
      'train',
      'doraemon-walle',
      '--arch',
      ARCH,
      '--size',
      '64',
      '--bs',
      '32',
      '--epochs',
      '1',
      '--seed',
      '1',
      '--backend',
      'wasm',
    ];
    const r = await runCli([...args, '--out', run, '--json'], { cwd: TMP, env: online() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`data set 'doraemon-walle': ${HOME}/data/doraemon-walle`);
    expect(lines(r.stderr).filter((l) => l.startsWith('warning:'))).toEqual([
      expect.stringMatching(/^warning: data set 'doraemon-walle': train\/walle\/walle\.124\.jpg .* is missing from /),
    ]);
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      dataDir: join(HOME, 'data', 'doraemon-walle'),
      classes: ['doraemon', 'walle'],
      nTrain: 279,
      nValid: 33,
    });
    expect(mirror.count(archive.url)).toBe(1);
    const afterTrain = mirror.count();
    expect(afterTrain).toBeGreaterThan(50); // model.json and its shards

    const get = await runCli(['datasets', 'get', 'doraemon-walle'], { cwd: TMP, env: online() });
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toBe(`${HOME}/data/doraemon-walle\n`);
    expect(get.stderr).toBe('');
    const again = await runCli([...args, '--out', join(TMP, 'run2')], { cwd: TMP, env: online() });
    expect(again.code, again.stderr).toBe(0);
    expect(mirror.count()).toBe(afterTrain);

    const list = await runCli(['datasets', 'list', '--json'], { cwd: TMP, env: online() });
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout).datasets as Array<{ name: string; cached: boolean; archived: boolean; folder: string }>;
    expect(rows.find((d) => d.name === 'doraemon-walle')).toMatchObject({
      cached: true,
      archived: true,
      folder: `${HOME}/data/doraemon-walle`,
    });
    expect(rows.find((d) => d.name === 'imagenette2-160')).toMatchObject({ cached: false, archived: false });
    const human = await runCli(['datasets', 'list'], { cwd: TMP, env: online() });
    expect(lines(human.stdout).find((l) => l.startsWith('doraemon-walle'))).toMatch(
      /DORAEMON_WALLE\s+48\.2 MB\s+cached\s+\S+data\/doraemon-walle$/,
    );
  });
});
