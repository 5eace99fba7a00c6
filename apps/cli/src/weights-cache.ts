/** Which pretrained weights are in the cache folder (`FASTTS_HOME/models/<arch>/`), for `fastts models`. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { layersModelShardPaths, parseLayersModelJson } from '@fastts/core/weights';
import { type ArchSpec } from '@fastts/node-gpu';

/** The cache state of one architecture's weights. */
export interface CacheStatus {
  /** Whether every file needed is present. */
  cached: boolean;
  /** The folder the files live (or would live) in. */
  folder: string;
  /** The files present (names relative to the folder). */
  present: string[];
  /** The files still missing (empty when cached). */
  missing: string[];
}

/** Checks which of `spec`'s pretrained files are in `folder` (no download, no full read of the weights). */
export function cacheStatus(spec: ArchSpec, folder: string): CacheStatus {
  const src = spec.pretrained;
  if (src.format === 'torch') {
    const candidates = [src.file.name, ...src.alternatives];
    const present = candidates.filter((n) => existsSync(join(folder, n)));
    return { cached: present.length > 0, folder, present, missing: present.length > 0 ? [] : [src.file.name] };
  }
  const jsonName = src.modelJson.name;
  const jsonPath = join(folder, jsonName);
  if (!existsSync(jsonPath)) return { cached: false, folder, present: [], missing: [jsonName] };
  let shards: string[];
  try {
    shards = layersModelShardPaths(parseLayersModelJson(new Uint8Array(readFileSync(jsonPath))));
  } catch {
    return { cached: false, folder, present: [jsonName], missing: [`${jsonName} is unreadable`] };
  }
  const present = [jsonName, ...shards.filter((s) => existsSync(join(folder, s)))];
  const missing = shards.filter((s) => !existsSync(join(folder, s)));
  return { cached: missing.length === 0, folder, present, missing };
}
