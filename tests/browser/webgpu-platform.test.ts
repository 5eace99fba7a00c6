/**
 * @fastts/webgpu in headless Chromium: backend choice and fallbacks, decoding real JPEGs like the Node platform
 * (sharp), EXIF orientation and transparency, readable decode errors, data sets from a dropped folder matching
 * Node's `fromFolder`, and the WebGPU AddN fix.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImageFile, fromFolder } from '@fastts/node-gpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORAEMON_WALLE } from '../../test-support/shared';
import { openTestPage, type TestPage } from './harness';

let t: TestPage;
let gen: string;

/** Dataset JPEGs: the largest and the smallest file of train/walle and one doraemon. */
function pickJpegs(): string[] {
  const dir = join(DORAEMON_WALLE, 'train', 'walle');
  const bySize = readdirSync(dir)
    .sort()
    .map((f) => ({ f: join('train', 'walle', f), size: statSync(join(dir, f)).size }))
    .sort((a, b) => a.size - b.size);
  const doraemon = readdirSync(join(DORAEMON_WALLE, 'train', 'doraemon')).sort()[0]!;
  return [bySize[0]!.f, bySize[bySize.length - 1]!.f, join('train', 'doraemon', doraemon)];
}

beforeAll(async () => {
  // Images made from a real photo: an EXIF-rotated JPEG and a PNG with a transparent left half.
  gen = mkdtempSync(join(tmpdir(), 'fastts-gen-'));
  const src = join(DORAEMON_WALLE, pickJpegs()[2]!);
  await sharp(src)
    .resize(120, 80, { fit: 'fill' })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toFile(join(gen, 'rotated.jpg'));
  const { data, info } = await sharp(src)
    .resize(40, 20, { fit: 'fill' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width / 2; x++) data[(y * info.width + x) * 4 + 3] = 0;
  await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } })
    .png()
    .toFile(join(gen, 'alpha.png'));
  writeFileSync(join(gen, 'not-an-image.jpg'), 'this is text');
  const jpeg = readFileSync(src);
  writeFileSync(join(gen, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  t = await openTestPage([{ prefix: '/gen/', dir: gen }]);
}, 120_000);

afterAll(async () => {
  await t?.close();
  if (gen) rmSync(gen, { recursive: true, force: true });
});

/** Per-channel means of an HWC RGB image. */
function channelMeans(data: Uint8Array | number[]): number[] {
  const sums = [0, 0, 0];
  for (let i = 0; i < data.length; i++) sums[i % 3]! += data[i]!;
  return sums.map((s) => s / (data.length / 3));
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

/** Decodes a served file in the page; returns size and (small images) pixels, or per-channel means. */
async function decodeInPage(url: string, target?: { width: number; height: number; fit: 'fill' | 'cover' | 'inside' }) {
  return t.page.evaluate(
    async ({ url, target }) => {
      const { webgpu, fetchBytes } = window.fastts;
      const img = await webgpu.decodeImage(new Blob([(await fetchBytes(url)) as BlobPart]), target ? { target } : {});
      const n = img.width * img.height;
      const sums = [0, 0, 0];
      for (let i = 0; i < img.data.length; i++) sums[i % 3]! += img.data[i]!;
      return {
        width: img.width,
        height: img.height,
        sourceWidth: img.sourceWidth,
        sourceHeight: img.sourceHeight,
        length: img.data.length,
        means: sums.map((s) => s / n),
        pixels: n <= 128 * 128 ? Array.from(img.data) : null,
      };
    },
    { url, target },
  );
}

describe('setupBackend in Chromium', () => {
  it('auto skips the software WebGPU adapter for wasm, and says why', async () => {
    const page = await t.newPage();
    const r = await page.evaluate(() => window.fastts.webgpu.setupBackend({ wasmPaths: '/wasm/' }));
    await page.close();
    expect(r.backend).toBe('wasm');
    expect(r.skipped).toEqual([{ backend: 'webgpu', reason: expect.stringContaining('software fallback adapter') }]);
    expect(r.description).toMatch(/^wasm \(SIMD/);
    expect(r.composedKernels).toContain('Conv2DBackpropFilter');
  });

  it('takes the fallback adapter when asked, and reports it', async () => {
    const page = await t.newPage();
    const r = await page.evaluate(() => window.fastts.webgpu.setupBackend({ allowFallbackAdapter: true }));
    await page.close();
    expect(r.backend).toBe('webgpu');
    expect(r.adapter).toMatchObject({ architecture: 'swiftshader', isFallbackAdapter: true });
  });

  it('explains a wasm backend whose .wasm files are not served', async () => {
    const page = await t.newPage();
    const err = await page.evaluate(async () => {
      try {
        await window.fastts.webgpu.setupBackend({ backend: 'wasm', wasmPaths: '/missing/' });
        return null;
      } catch (e) {
        return { name: (e as Error).name, message: (e as Error).message };
      }
    });
    await page.close();
    expect(err).toMatchObject({ name: 'BackendUnavailableError' });
    expect(err!.message).toMatch(/wasmPaths/);
  });

  it('falls back to WebGL when wasm cannot start either, and computes like cpu there', async () => {
    const page = await t.newPage();
    const r = await page.evaluate(async () => {
      const { webgpu, tf } = window.fastts;
      const report = await webgpu.setupBackend({ wasmPaths: '/missing/' });
      const conv = async () => {
        const x = tf.tensor4d(
          Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i)),
          [2, 6, 6, 3],
        );
        const w = tf.tensor4d(
          Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
          [3, 3, 3, 4],
        );
        return Array.from(await tf.conv2d(x, w, 1, 'same').data());
      };
      const gl = await conv();
      await tf.setBackend('cpu');
      return { report, gl, cpu: await conv() };
    });
    await page.close();
    expect(r.report.backend).toBe('webgl');
    expect(r.report.description).toMatch(/^WebGL 2 \(webgpu: only a software fallback adapter.*; wasm: /);
    expect(r.report.skipped.map((s) => s.backend)).toEqual(['webgpu', 'wasm']);
    expect(r.gl.length).toBe(2 * 6 * 6 * 4);
    r.gl.forEach((v, i) => expect(v).toBeCloseTo(r.cpu[i]!, 3));
  });

  it('sums more tensors than the WebGPU storage-buffer limit correctly (AddN fix)', async () => {
    const page = await t.newPage();
    const sums = await page.evaluate(async () => {
      const { webgpu, tf } = window.fastts;
      await webgpu.setupBackend({ backend: 'webgpu' });
      return Array.from(await tf.addN(Array.from({ length: 23 }, (_, i) => tf.fill([5], i + 1))).data());
    });
    await page.close();
    expect(sums).toEqual(new Array(5).fill((23 * 24) / 2));
  });
});

describe('decodeImage in Chromium', () => {
  it('decodes real JPEGs to the pixels sharp gives (full size and resized)', async () => {
    for (const rel of pickJpegs()) {
      const path = join(DORAEMON_WALLE, rel);
      const meta = await sharp(path).metadata();
      const url = `/shared/datasets/doraemon-walle/${rel.split('\\').join('/')}`;
      const full = await decodeInPage(url);
      expect([full.width, full.height], rel).toEqual([meta.width, meta.height]);
      expect(full.length).toBe(meta.width! * meta.height! * 3);
      const node = await decodeImageFile(path, { width: meta.width!, height: meta.height!, fit: 'fill' });
      const means = channelMeans(node.data);
      for (let c = 0; c < 3; c++) expect(Math.abs(full.means[c]! - means[c]!), `${rel} channel ${c}`).toBeLessThan(1.5);

      const target = { width: 64, height: 64, fit: 'fill' as const };
      const small = await decodeInPage(url, target);
      expect(small).toMatchObject({ width: 64, height: 64, sourceWidth: meta.width, sourceHeight: meta.height });
      const nodeSmall = await decodeImageFile(path, target);
      // Different resize kernels (Skia vs libvips): close, not equal.
      expect(meanAbsDiff(small.pixels!, nodeSmall.data), rel).toBeLessThan(8);
    }
  });

  it('applies EXIF orientation and flattens transparency onto white, as the Node platform does', async () => {
    const rotated = await decodeInPage('/gen/rotated.jpg');
    expect([rotated.width, rotated.height]).toEqual([80, 120]);
    const nodeRot = await decodeImageFile(join(gen, 'rotated.jpg'), { width: 80, height: 120, fit: 'fill' });
    expect(meanAbsDiff(rotated.pixels!, nodeRot.data)).toBeLessThan(3);

    const alpha = await decodeInPage('/gen/alpha.png');
    expect([alpha.width, alpha.height]).toEqual([40, 20]);
    const nodeAlpha = await decodeImageFile(join(gen, 'alpha.png'), { width: 40, height: 20, fit: 'fill' });
    expect(alpha.pixels!.slice(0, 3)).toEqual([255, 255, 255]);
    expect(meanAbsDiff(alpha.pixels!, nodeAlpha.data)).toBeLessThan(1);
  });

  it('rejects what is not an image, naming it', async () => {
    const errors = await t.page.evaluate(async () => {
      const { webgpu, fetchBytes } = window.fastts;
      const out: Record<string, { name: string; message: string }> = {};
      const grab = async (key: string, f: () => Promise<unknown>) => {
        try {
          await f();
        } catch (e) {
          out[key] = { name: (e as Error).name, message: (e as Error).message };
        }
      };
      const text = new Blob([(await fetchBytes('/gen/not-an-image.jpg')) as BlobPart]);
      await grab('text', () => webgpu.decodeImage(text, { name: 'notes.jpg' }));
      await grab('empty', () => webgpu.decodeImage(new Blob([]), { name: 'empty.jpg' }));
      await grab('object', () => webgpu.decodeImage({} as Blob));
      const p = new webgpu.FilePlatform([
        { path: 'd/cut.jpg', file: new Blob([(await fetchBytes('/gen/truncated.jpg')) as BlobPart]) },
      ]);
      await grab('truncated', () => p.probeImage('d/cut.jpg'));
      return out;
    });
    expect(errors.text).toMatchObject({ name: 'ImageDecodeError', message: expect.stringContaining('notes.jpg') });
    expect(errors.empty).toMatchObject({ name: 'ImageDecodeError', message: expect.stringContaining('empty') });
    expect(errors.object).toMatchObject({ name: 'UnsupportedImageSourceError' });
    expect(errors.truncated).toMatchObject({ name: 'ImageDecodeError', message: expect.stringContaining('truncated JPEG') });
  });
});

describe('fromFiles in Chromium', () => {
  it('gives the DataBunch Node gives for the same folder, dropped', async () => {
    const opts = { size: 32, bs: 16, seed: 7, test: 'test', verify: 'none' as const };
    const node = await fromFolder(DORAEMON_WALLE, opts);
    const web = await t.page.evaluate(async (o) => {
      const { webgpu, droppedFolder, tf } = window.fastts;
      await webgpu.setupBackend({ backend: 'wasm', wasmPaths: '/wasm/' });
      const files = await droppedFolder('/shared/datasets/doraemon-walle/');
      const data = await webgpu.fromFiles(files, o);
      let shape: number[] = [];
      let range: number[] = [];
      for await (const { x, y } of data.validDl) {
        shape = x.shape;
        range = [(await tf.min(x).data())[0]!, (await tf.max(x).data())[0]!];
        tf.dispose([x, y]);
        break;
      }
      return {
        classes: data.classes,
        train: data.trainDl.items.length,
        valid: data.validDl.items.map((p: string) => p.split('/').slice(-2).join('/')),
        validLabels: data.validDl.labels,
        test: data.testDl?.labels ?? null,
        root: files[0]!.path.split('/')[0],
        shape,
        range,
      };
    }, opts);
    expect(web.root).toBe('doraemon-walle');
    expect(web.classes).toEqual(node.classes);
    expect(web.train).toBe(node.trainDl.items.length);
    expect(web.valid).toEqual(node.validDl.items.map((p) => p.split(/[\\/]/).slice(-2).join('/')));
    expect(web.validLabels).toEqual([...node.validDl.labels]);
    expect(web.test).toEqual(new Array(6).fill(-1));
    expect(web.shape).toEqual([16, 32, 32, 3]);
    expect(web.range[0]).toBeGreaterThanOrEqual(0);
    expect(web.range[1]).toBeLessThanOrEqual(255);
    expect(web.range[1]).toBeGreaterThan(100);
  });

  it('reads loose files of a drop', async () => {
    const paths = await t.page.evaluate(async () => {
      const dt = new DataTransfer();
      dt.items.add(new File(['a'], 'a.jpg', { type: 'image/jpeg' }));
      dt.items.add(new File(['b'], 'b.png', { type: 'image/png' }));
      return (await window.fastts.webgpu.filesFromDataTransfer(dt)).map((f) => f.path).sort();
    });
    expect(paths).toEqual(['a.jpg', 'b.png']);
  });
});
