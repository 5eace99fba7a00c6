/**
 * `fastts datasets list|get`: the registered data sets (fast.ai's and the tutorial's) and their cache state, and
 * `untarData` from the command line. Also how `fastts train <name>` turns a data set name into its folder.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  datasetPaths,
  fasttsHome,
  isOffline,
  listDatasets,
  untarData,
  UnknownDatasetError,
  type DatasetSpec,
} from '@fastts/node-gpu';
import { findDataset, suggestDatasets } from '@fastts/node-gpu/platform';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import type { CommonOptions } from '../options.js';
import type { Reporter } from '../output.js';

/** One row of `fastts datasets list`. */
export interface DatasetInfo {
  name: string;
  /** fast.ai's name (`URLs.PETS`). */
  key: string;
  url: string;
  /** Bytes to download (the images' total for doraemon-walle, whose archive is not pinned). */
  bytes: number;
  /** Extracted and ready in `folder`. */
  cached: boolean;
  /** The archive is in the cache (extracting needs no download). */
  archived: boolean;
  folder: string;
  archive: string;
  /** How the download is verified. */
  verified: string;
}

function describe(spec: DatasetSpec, home: string): DatasetInfo {
  const paths = datasetPaths(spec, home);
  return {
    name: spec.name,
    key: spec.key ?? '',
    url: spec.url,
    bytes: spec.bytes,
    cached: existsSync(paths.folder),
    archived: existsSync(paths.archive),
    folder: paths.folder,
    archive: paths.archive,
    verified: spec.files ? `git blob ids of ${spec.files.commit.slice(0, 7)}` : 'fast.ai size + md5',
  };
}

/** Lists the registered data sets with their cache state. */
export function listDatasetInfo(home: string = fasttsHome()): DatasetInfo[] {
  return listDatasets().map((d) => describe(d, home));
}

/** `1.6 GB`, `342 kB`. */
function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** Runs `fastts datasets list`. */
export async function runDatasetsList(_options: CommonOptions, ctx: CommandContext): Promise<void> {
  const { reporter } = ctx;
  const home = fasttsHome();
  const rows = listDatasetInfo(home);
  const offline = isOffline();
  if (reporter.json) {
    reporter.result({ home, offline, mirror: ctx.io.env.FASTTS_MIRROR || null, datasets: rows });
    return;
  }
  const s = reporter.style;
  const nw = Math.max(...rows.map((r) => r.name.length));
  const kw = Math.max(...rows.map((r) => r.key.length));
  reporter.out(s.bold(`${'name'.padEnd(nw)}  ${'URLs.'.padEnd(kw)}  ${'size'.padStart(8)}  state`));
  for (const r of rows) {
    const state = r.cached
      ? `${s.green('cached')}  ${r.folder}`
      : r.archived
        ? `${s.yellow('archive only')} (extracted on first use)`
        : s.dim(offline ? 'not downloaded (offline)' : 'downloads on first use');
    reporter.out(`${r.name.padEnd(nw)}  ${r.key.padEnd(kw)}  ${formatBytes(r.bytes).padStart(8)}  ${state}`);
  }
  reporter.out();
  reporter.out(
    `data sets: ${home}/data/<name>/, archives: ${home}/archive/ (set FASTTS_HOME to move them, FASTTS_MIRROR to download from a mirror)`,
  );
}

/** The one-line usage error for a name that is no data set. */
function unknownDataset(err: UnknownDatasetError): UsageError {
  const names = err.suggestions.map((n) => `'${n}'`).join(' or ');
  return new UsageError(`unknown data set '${err.dataset}'${err.reason ? ` (${err.reason})` : ''}`, {
    hint: `${names ? `did you mean ${names}? ` : ''}'fastts datasets list' shows the registered names`,
    cause: err,
  });
}

/** Downloads (if needed) a data set and returns its folder, with warnings and progress on stderr. */
async function fetchDataset(name: string, reporter: Reporter): Promise<string> {
  try {
    return await untarData(name, { onWarning: (m) => reporter.warn(m), download: { progress: reporter.interactive } });
  } catch (e) {
    throw e instanceof UnknownDatasetError ? unknownDataset(e) : e;
  }
}

/** Runs `fastts datasets get <name>`: prints the data set's folder (stdout), downloading it first if needed. */
export async function runDatasetsGet(name: string, _options: CommonOptions, ctx: CommandContext): Promise<void> {
  const { reporter } = ctx;
  const spec = findDataset(name);
  const cachedBefore = spec ? existsSync(datasetPaths(spec).folder) : false;
  const folder = await fetchDataset(name, reporter);
  if (reporter.json) {
    reporter.result({ name: spec?.name ?? name, path: folder, downloaded: !cachedBefore });
    return;
  }
  reporter.out(folder);
}

/**
 * `fastts train <data>`: a path that exists is the data folder; otherwise a registered data set name resolves
 * through `untarData` (downloaded on first use). A name close to a registered one is a usage error suggesting it;
 * anything else is left to the data folder checks.
 */
export async function resolveDataArgument(arg: string, cwd: string, reporter: Reporter): Promise<string> {
  if (existsSync(resolve(cwd, arg))) return arg;
  const spec = findDataset(arg);
  if (spec) {
    const folder = await fetchDataset(spec.name, reporter);
    reporter.log(`data set '${spec.name}': ${folder}`);
    return folder;
  }
  const looksLikeName = !/[\\/]/.test(arg) && !arg.startsWith('.');
  const suggestions = looksLikeName ? suggestDatasets(arg) : [];
  if (suggestions.length > 0) {
    throw new UsageError(`'${arg}' is neither a folder nor a data set name`, {
      hint: `did you mean the data set ${suggestions.map((n) => `'${n}'`).join(' or ')}? Give the data folder, or a name from 'fastts datasets list'`,
    });
  }
  return arg;
}
