/**
 * `loadPretrained(arch)`: pretrained ImageNet weights from the cache folder `FASTTS_HOME/models/<arch>/`,
 * downloaded from the canonical host on first use (unless offline).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getArch } from '@fastts/core';
import {
  layersModelShardPaths,
  parseLayersModelJson,
  type LayersModelJson,
  pretrainedFromBytes,
  pretrainedFromLayersModel,
  type PretrainedFile,
  type PretrainedWeights,
} from '@fastts/core/weights';
import { fasttsHome, isOffline, pretrainedDir } from './cache.js';
import { downloadFile, type DownloadOptions } from './download.js';
import { CachedWeightsError, PretrainedUnavailableError } from './errors.js';

/** Options of {@link loadPretrained}. */
export interface LoadPretrainedOptions {
  /** Cache root (default `FASTTS_HOME`, else `~/.cache/fastts`). */
  home?: string;
  /** Never download (default: `FASTTS_OFFLINE=1`). */
  offline?: boolean;
  /** Download settings (progress bar, retries, fetch implementation). */
  download?: Omit<DownloadOptions, 'sha256' | 'label'>;
}

async function readBytes(path: string): Promise<Uint8Array> {
  const b = await readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Resolves a URL relative to another (shards live next to model.json). */
function sibling(url: string, name: string): string {
  return new URL(name, url).toString();
}

/** Where {@link fetchPretrained} found or put an architecture's weight files. */
export interface PretrainedFiles {
  /** The cache folder `<home>/models/<arch>/`. */
  dir: string;
  /** torchvision archs: the weight file (`.pth` or `model.safetensors`). */
  file?: string;
  /** Keras archs: `model.json`, parsed (its shards are next to it). */
  modelJson?: { path: string; json: LayersModelJson };
}

/**
 * Makes sure an architecture's pretrained files are in the cache folder `<home>/models/<arch>/`, downloading
 * what is missing from the canonical host (sha256-verified, resumable, `FASTTS_MIRROR` honoured), without
 * loading them. With `FASTTS_OFFLINE=1`, or when the download fails, throws {@link PretrainedUnavailableError}
 * naming each file and where to save it.
 */
export async function fetchPretrained(arch: string, options: LoadPretrainedOptions = {}): Promise<PretrainedFiles> {
  const spec = getArch(arch);
  const dir = pretrainedDir(spec.name, options.home ?? fasttsHome());
  const offline = options.offline ?? isOffline();
  const src = spec.pretrained;

  const fetchFiles = async (files: Array<[PretrainedFile, string]>): Promise<void> => {
    const needed = files.map(([f, dest]): [string, string] => [f.url, dest]);
    if (offline) {
      throw new PretrainedUnavailableError(spec.name, dir, needed, 'downloading is disabled (FASTTS_OFFLINE=1)');
    }
    for (const [file, dest] of files) {
      try {
        await downloadFile(file.url, dest, {
          ...options.download,
          ...(file.sha256 ? { sha256: file.sha256 } : {}),
          label: `${spec.name}/${file.name}`,
        });
      } catch (e) {
        throw new PretrainedUnavailableError(spec.name, dir, needed, `the download failed (${(e as Error).message})`, {
          cause: e,
        });
      }
    }
  };

  if (src.format === 'torch') {
    const candidates = [src.file.name, ...src.alternatives];
    const found = candidates.map((n) => join(dir, n)).find((p) => existsSync(p));
    if (found) return { dir, file: found };
    const dest = join(dir, src.file.name);
    await fetchFiles([[src.file, dest]]);
    return { dir, file: dest };
  }

  const jsonPath = join(dir, src.modelJson.name);
  if (!existsSync(jsonPath)) await fetchFiles([[src.modelJson, jsonPath]]);
  const json = await withCachePath(jsonPath, async () => parseLayersModelJson(await readBytes(jsonPath)));
  const missing = layersModelShardPaths(json)
    .filter((p) => !existsSync(join(dir, p)))
    .map((p): [PretrainedFile, string] => {
      const sha = src.shardSha256[p];
      return [{ name: p, url: sibling(src.modelJson.url, p), ...(sha ? { sha256: sha } : {}) }, join(dir, p)];
    });
  if (missing.length > 0) await fetchFiles(missing);
  return { dir, modelJson: { path: jsonPath, json } };
}

/**
 * Loads an architecture's pretrained ImageNet weights (see `createModel(arch, { weights })`,
 * `createBody(arch, { weights })`): {@link fetchPretrained}, then reads them — torchvision's
 * `resnet34-b627a593.pth` (or a timm `model.safetensors`) for torchvision archs, `model.json` and its shards for
 * Keras archs. The caller owns the returned tensors (`weights.dispose()` after loading). `cnnLearner` calls this
 * by itself when given no weights.
 */
export async function loadPretrained(arch: string, options: LoadPretrainedOptions = {}): Promise<PretrainedWeights> {
  const spec = getArch(arch);
  const files = await fetchPretrained(spec.name, options);
  if (files.file) {
    const path = files.file;
    return withCachePath(path, async () => pretrainedFromBytes(spec.name, await readBytes(path), path));
  }
  const { path, json } = files.modelJson!;
  return withCachePath(path, () => pretrainedFromLayersModel(spec.name, json, (p) => readBytes(join(files.dir, p)), path));
}

/**
 * The first of `archs` whose pretrained weights can be had — cached, or downloaded now — for a default that works
 * offline too: `await pickPretrained(['resnet34', 'resnet50-keras'])`. Each one skipped is reported through `log`
 * with the reason (the first line of its {@link PretrainedUnavailableError}). Throws the last error when none can.
 */
export async function pickPretrained(
  archs: readonly string[],
  options: LoadPretrainedOptions & { log?: (line: string) => void } = {},
): Promise<string> {
  let last: unknown;
  for (const arch of archs) {
    try {
      await fetchPretrained(arch, options);
      return getArch(arch).name;
    } catch (e) {
      if (!(e instanceof PretrainedUnavailableError)) throw e;
      last = e;
      options.log?.(`${arch}: ${e.message.split('\n')[0]!.replace(/[.;:\s]+$/, '')}; trying the next one`);
    }
  }
  throw last ?? new Error('pickPretrained: no architecture given');
}

/** Runs a read of cached files, wrapping any failure in a {@link CachedWeightsError} naming the file. */
async function withCachePath<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    throw new CachedWeightsError(path, { cause: e });
  }
}
