/**
 * Loads the conformance fixtures from the shared data folder through two platform functions (fs on Node, HTTP in
 * the browser): MobileNet v1 0.25's layers-model files, the ImageNet sample photos with their expected classes.
 */
import type { DataBunch, DecodedImage, FromFolderOptions } from '@fastts/core';
import { ARCH, type ConformanceFixtures, type SamplePhoto } from './suite.js';

/** Photos of shared/models/imagenet-samples used by the suite (the first two have a stable top-1). */
export const PHOTO_NAMES = ['bird.jpg', 'parrot.jpg', 'cat.jpg', 'dragonfly.jpg'] as const;

/** How an environment reads the shared folder. */
export interface SharedIo {
  /** Reads a file, by path relative to the shared folder (`models/...`). */
  read(relPath: string): Promise<Uint8Array>;
  /** Reads and decodes a photo (full size, RGB). */
  decode(relPath: string): Promise<DecodedImage>;
  /** The doraemon-walle DataBunch (relative path `datasets/doraemon-walle`). */
  dataBunch(options: FromFolderOptions): Promise<DataBunch>;
}

const utf8 = new TextDecoder();

/** Reads everything the suite needs. */
export async function loadFixtures(io: SharedIo): Promise<ConformanceFixtures> {
  const modelDir = `models/${ARCH}`;
  const modelJson = JSON.parse(utf8.decode(await io.read(`${modelDir}/model.json`))) as object;
  const expected = JSON.parse(utf8.decode(await io.read('models/imagenet-samples/expected.json'))) as {
    models: Record<string, { images: Record<string, { top1: number; prob: number }> }>;
  };
  const known = expected.models[ARCH]?.images ?? {};
  const photos: SamplePhoto[] = [];
  for (const name of PHOTO_NAMES) {
    const rel = `models/imagenet-samples/${name}`;
    const e = known[name];
    if (!e) throw new Error(`expected.json has no entry for ${ARCH} / ${name}`);
    photos.push({ name, image: await io.decode(rel), top1: e.top1, prob: e.prob });
  }
  return {
    modelJson,
    loadShard: (p) => io.read(`${modelDir}/${p}`),
    photos,
    dataBunch: (o) => io.dataBunch(o),
  };
}
