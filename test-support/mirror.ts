/**
 * A local download mirror for tests: an HTTP server on 127.0.0.1 that serves canonical URLs the way
 * `FASTTS_MIRROR=<mirror.url>` asks for them (`https://<host>/<path>` as `<mirror.url>/<host>/<path>`), so weights
 * and data sets download with no network. Plus {@link buildDoraemonWalleArchive}: GitHub's `.tar.gz` of the pinned
 * doraemon-walle commit, rebuilt from `../shared/datasets/doraemon-walle`.
 *
 * ```ts
 * const archive = await buildDoraemonWalleArchive();
 * const mirror = await startMirror({
 *   [archive.url]: archive.file,                                          // a file
 *   'storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.25_224/': dir, // a folder (key ends with '/')
 * });
 * process.env.FASTTS_MIRROR = mirror.url;   // or pass { mirror: mirror.url } / env to a child process
 * mirror.count(archive.url);                // requests for one file; mirror.count() for all
 * mirror.cutOnce(archive.url, 100_000);     // the next response for it stops after 100 kB (to test resume)
 * await mirror.close(); archive.remove();
 * ```
 */
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { Header } from 'tar';
import {
  DORAEMON_WALLE_COMMIT,
  DORAEMON_WALLE_REPO,
  DORAEMON_WALLE_URL,
} from '../packages/node-gpu/src/datasets/doraemon-walle-files.js';
import { DORAEMON_WALLE } from './shared.js';

/**
 * What the mirror serves for a key: a file path, a folder (for a key ending in `/`), the bytes themselves, or
 * `{ status }` to answer every request with that HTTP status (503 to test retries).
 */
export type MirrorSource = string | Uint8Array | { status: number };

/** One request the mirror answered. */
export interface MirrorRequest {
  /** `<host>/<path>` asked for. */
  key: string;
  /** The Range header, if any. */
  range: string | undefined;
  status: number;
}

/** A running mirror. */
export interface Mirror {
  /** Base URL to use as `FASTTS_MIRROR` (`http://127.0.0.1:<port>`). */
  url: string;
  /** Every request so far, in order. */
  requests: MirrorRequest[];
  /** Requests for one canonical URL or `<host>/<path>` key, or for anything when omitted. */
  count(urlOrKey?: string): number;
  /** Serves another file (same keys as {@link startMirror}). */
  add(urlOrKey: string, source: MirrorSource): void;
  /** The next response for this URL/key sends its headers and `bytes` bytes of the body, then drops the connection. */
  cutOnce(urlOrKey: string, bytes: number): void;
  /** Stops the server. */
  close(): Promise<void>;
}

/** The mirror key of a URL: `https://host/path?q` -> `host/path?q`; a key is returned as is. */
export function mirrorKey(urlOrKey: string): string {
  return urlOrKey.replace(/^[a-z]+:\/\//i, '').replace(/^\/+/, '');
}

/**
 * Starts a mirror on 127.0.0.1 (a free port) serving `files`: keys are canonical URLs or `<host>/<path>`; a key
 * ending in `/` maps a whole folder. Answers GET/HEAD with Content-Length, honours `Range: bytes=a-[b]` (206, 416
 * past the end), 404 for anything else. Every request is counted.
 */
export async function startMirror(files: Record<string, MirrorSource> = {}): Promise<Mirror> {
  const table = new Map<string, MirrorSource>();
  const cuts = new Map<string, number>();
  const requests: MirrorRequest[] = [];
  const add = (k: string, source: MirrorSource): void => void table.set(mirrorKey(k), source);
  for (const [k, v] of Object.entries(files)) add(k, v);

  const lookup = (key: string): MirrorSource | undefined => {
    const direct = table.get(key);
    if (direct !== undefined) return direct;
    for (const [k, dir] of table) {
      if (!k.endsWith('/') || typeof dir !== 'string' || !key.startsWith(k)) continue;
      const rest = decodeURIComponent(key.slice(k.length).split('?')[0]!);
      if (rest.split('/').includes('..')) return undefined;
      const file = join(dir, rest);
      if (existsSync(file) && statSync(file).isFile()) return file;
    }
    return undefined;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const key = mirrorKey(decodeURI(req.url ?? '/'));
    const record = (status: number): void => void requests.push({ key, range: req.headers.range, status });
    const source = lookup(key);
    if (source === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      record(404);
      res.writeHead(404).end();
      return;
    }
    if (!(typeof source === 'string' || source instanceof Uint8Array)) {
      record(source.status);
      res.writeHead(source.status).end();
      return;
    }
    const size = typeof source === 'string' ? statSync(source).size : source.length;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size) {
        record(416);
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
    }
    record(status);
    res.writeHead(status, {
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    const cut = cuts.get(key);
    if (cut !== undefined) cuts.delete(key);
    const last = cut === undefined ? end : Math.min(end, start + cut - 1);
    const body =
      typeof source === 'string'
        ? createReadStream(source, { start, end: last })
        : [Buffer.from(source.buffer, source.byteOffset + start, last - start + 1)];
    void (async () => {
      for await (const chunk of body) if (!res.write(chunk)) await once(res, 'drain');
      if (cut === undefined) res.end();
      else setTimeout(() => res.socket?.destroy(), 20); // announced more than it sent: a dropped connection
    })().catch(() => res.socket?.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    count: (k) => (k === undefined ? requests.length : requests.filter((r) => r.key === mirrorKey(k)).length),
    add,
    cutOnce: (k, bytes) => void cuts.set(mirrorKey(k), bytes),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** One entry of {@link writeTarGz}: a file with its bytes (from `data` or the file at `file`), or a link. */
export interface TarEntry {
  /** The path in the archive, as written (nothing is normalized: tests can write hostile paths). */
  path: string;
  data?: Uint8Array;
  file?: string;
  /** Makes the entry a symbolic link to this target. */
  symlink?: string;
}

/** Writes a `.tar.gz` with exactly these entries (node-tar's header encoder, gzip from zlib). */
export async function writeTarGz(dest: string, entries: readonly TarEntry[]): Promise<void> {
  const gzip = createGzip({ level: 1 }); // JPEGs do not compress: be quick
  const out = createWriteStream(dest);
  gzip.pipe(out);
  const write = async (b: Uint8Array): Promise<void> => {
    if (!gzip.write(b)) await once(gzip, 'drain');
  };
  const mtime = new Date('2019-04-02T14:20:01Z');
  for (const e of entries) {
    const data = e.symlink !== undefined ? new Uint8Array() : (e.data ?? readFileSync(e.file!));
    const header = new Header({
      path: e.path,
      mode: e.symlink !== undefined ? 0o777 : 0o644,
      size: data.length,
      mtime,
      type: e.symlink !== undefined ? 'SymbolicLink' : 'File',
      ...(e.symlink !== undefined ? { linkpath: e.symlink } : {}),
      uid: 0,
      gid: 0,
    });
    const block = Buffer.alloc(512);
    if (header.encode(block, 0)) throw new Error(`writeTarGz: path too long for a ustar header: ${e.path}`);
    await write(block);
    await write(data);
    if (data.length % 512 !== 0) await write(Buffer.alloc(512 - (data.length % 512)));
  }
  await write(Buffer.alloc(1024)); // end of archive
  gzip.end();
  await once(out, 'close');
}

/** The archive {@link buildDoraemonWalleArchive} wrote. */
export interface DoraemonWalleArchive {
  /** The `.tar.gz` file. */
  file: string;
  /** The canonical URL it stands for (`URLs.DORAEMON_WALLE`): the key to serve it under. */
  url: string;
  /** Its top folder, `demo-image-classification-fastai-<sha>` as GitHub names it. */
  top: string;
  /** Deletes the temporary folder holding the file. */
  remove(): void;
}

/** Options of {@link buildDoraemonWalleArchive}. */
export interface DoraemonWalleArchiveOptions {
  /** Replace the bytes of these files (paths in the data set folder, e.g. `train/walle/walle.1.jpg`). */
  replace?: Record<string, Uint8Array>;
  /** Further entries, with paths as written in the archive (e.g. `../evil.txt`). */
  extra?: TarEntry[];
}

/**
 * Builds GitHub's `.tar.gz` of the pinned doraemon-walle commit from `../shared/datasets/doraemon-walle` (which lacks
 * upstream's `train/walle/walle.124.jpg`): `<repo>-<sha>/README.md` and `<repo>-<sha>/imgs/{train,valid,test}/...`,
 * into a new temporary folder. Nothing comes from the network.
 */
export async function buildDoraemonWalleArchive(options: DoraemonWalleArchiveOptions = {}): Promise<DoraemonWalleArchive> {
  const dir = mkdtempSync(join(tmpdir(), 'fastts-doraemon-walle-'));
  const top = `${DORAEMON_WALLE_REPO.split('/')[1]}-${DORAEMON_WALLE_COMMIT}`;
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(relative(DORAEMON_WALLE, p).split(sep).join('/'));
    }
  };
  walk(DORAEMON_WALLE);
  const entries: TarEntry[] = [
    { path: `${top}/README.md`, data: Buffer.from('# demo-image-classification-fastai\n') },
    ...files.map((f) => {
      const data = options.replace?.[f];
      return { path: `${top}/imgs/${f}`, ...(data ? { data } : { file: join(DORAEMON_WALLE, f) }) };
    }),
    ...(options.extra ?? []),
  ];
  const file = join(dir, `${DORAEMON_WALLE_COMMIT}.tar.gz`);
  await writeTarGz(file, entries);
  return { file, url: DORAEMON_WALLE_URL, top, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
