/**
 * A tiny static file server on 127.0.0.1 for browser tests: each route maps a URL prefix to a folder on disk
 * (read-only, no directory escapes), plus `/__list/<route>/<path>` returning the files under a folder as JSON so
 * a page can build the `File` list of a "dropped" folder.
 */
import { createReadStream, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';

/** A URL prefix (`/wasm/`) served from a folder. */
export interface StaticRoute {
  prefix: string;
  dir: string;
}

/** A running server; `close()` stops it. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
  }
  return out.sort();
}

/** Resolves a URL path under a folder, refusing `..` escapes; null when outside or not a route. */
function locate(routes: StaticRoute[], urlPath: string): string | null {
  for (const r of routes) {
    if (!urlPath.startsWith(r.prefix)) continue;
    const root = resolve(r.dir);
    const file = resolve(root, '.' + sep + decodeURIComponent(urlPath.slice(r.prefix.length)));
    return file === root || file.startsWith(root + sep) ? file : null;
  }
  return null;
}

/** Serves `routes` on a free loopback port. */
export async function startStaticServer(routes: StaticRoute[]): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
    const fail = (code: number, text: string) => {
      res.writeHead(code, { 'content-type': 'text/plain' });
      res.end(text);
    };
    if (urlPath.startsWith('/__list/')) {
      const dir = locate(routes, urlPath.slice('/__list'.length));
      if (!dir) return fail(404, 'no such route');
      listFiles(dir).then(
        (files) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(files));
        },
        (e: Error) => fail(404, e.message),
      );
      return;
    }
    const file = locate(routes, urlPath === '/' ? '/index.html' : urlPath);
    let size = -1;
    try {
      if (file) {
        const st = statSync(file);
        if (st.isFile()) size = st.size;
      }
    } catch {
      // not found below
    }
    if (!file || size < 0) return fail(404, `not found: ${urlPath}`);
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
