/** How `fastts train <data>` reads its argument, and `fastts datasets list` on an empty cache (no network). */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { Reporter } from '../output.js';
import { memoryIo } from '../test/memory-io.js';
import { listDatasetInfo, resolveDataArgument } from './datasets.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-cli-datasets-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('resolveDataArgument', () => {
  const reporter = new Reporter(memoryIo());

  it('a path that exists wins over a data set of the same name', async () => {
    mkdirSync(join(TMP, 'doraemon-walle'));
    expect(await resolveDataArgument('doraemon-walle', TMP, reporter)).toBe('doraemon-walle');
  });

  it('a name close to a data set is a usage error suggesting it; other paths are left to the folder checks', async () => {
    const err = await resolveDataArgument('mnist-smaple', TMP, reporter).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).line).toBe(
      "'mnist-smaple' is neither a folder nor a data set name; did you mean the data set 'mnist_sample'? Give the data folder, or a name from 'fastts datasets list'",
    );
    expect(await resolveDataArgument('data/pets', TMP, reporter)).toBe('data/pets');
    expect(await resolveDataArgument('zzzzzzzz', TMP, reporter)).toBe('zzzzzzzz');
  });
});

describe('listDatasetInfo', () => {
  it("lists the tutorial's data set first, then fast.ai's, none cached in an empty home", () => {
    const rows = listDatasetInfo(TMP);
    expect(rows[0]).toMatchObject({
      name: 'doraemon-walle',
      key: 'DORAEMON_WALLE',
      cached: false,
      folder: join(TMP, 'data', 'doraemon-walle'),
    });
    expect(rows.map((r) => r.key)).toEqual(
      expect.arrayContaining(['PETS', 'IMAGENETTE_160', 'IMAGENETTE_320', 'MNIST_SAMPLE', 'CIFAR']),
    );
    expect(rows.find((r) => r.key === 'PETS')).toMatchObject({
      name: 'oxford-iiit-pet',
      bytes: 811706944,
      verified: 'fast.ai size + md5',
    });
    expect(rows.every((r) => !r.cached && !r.archived)).toBe(true);
  });
});
