/**
 * The browser test page (bundled by esbuild, served by ./server.ts): exposes @fastts/webgpu, tfjs-core and the
 * conformance suite on `window.fastts` for tests to drive with `page.evaluate`, plus fixtures read over HTTP from
 * the shared folder (served under `/shared/`), and "dropped folders" built from the server's file listings.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as webgpu from '@fastts/webgpu';
import { loadFixtures, type SharedIo } from '../conformance/fixtures.js';
import { formatReport, runConformance, type CheckName, type ConformanceReport } from '../conformance/suite.js';

/** Fetches a URL as bytes, with a readable error. */
async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The files under a served folder as a user's drop would give them: `File`s with relative paths that start with
 * the folder's own name (`doraemon-walle/train/doraemon/x.jpg`).
 */
async function droppedFolder(urlDir: string): Promise<webgpu.RelativeFile[]> {
  const list = (await (await fetch(`/__list${urlDir}`)).json()) as string[];
  const name = urlDir.replace(/\/$/, '').split('/').pop()!;
  return Promise.all(
    list.map(async (rel) => {
      const bytes = await fetchBytes(`${urlDir}${rel}`);
      const file = new File([bytes as BlobPart], rel.split('/').pop()!, {
        type: rel.endsWith('.png') ? 'image/png' : 'image/jpeg',
      });
      return { path: `${name}/${rel}`, file };
    }),
  );
}

/** The shared folder over HTTP; images decoded by the browser platform, data sets through `fromFiles`. */
const sharedIo: SharedIo = {
  read: (rel) => fetchBytes(`/shared/${rel}`),
  decode: async (rel) => webgpu.decodeImage(new Blob([(await fetchBytes(`/shared/${rel}`)) as BlobPart]), { name: rel }),
  dataBunch: async (options) => webgpu.fromFiles(await droppedFolder('/shared/datasets/doraemon-walle/'), options),
};

/** Sets up `backend` (with the wasm files served under /wasm/) and runs the suite on it. */
async function conformance(
  backend: string,
  options: { checks?: CheckName[]; epochs?: number } = {},
): Promise<{ report: ConformanceReport; text: string; setup: webgpu.BackendReport }> {
  const setup = await webgpu.setupBackend({ backend: backend as webgpu.WebBackendName, wasmPaths: '/wasm/' });
  const fixtures = await loadFixtures(sharedIo);
  const lines: string[] = [];
  const report = await runConformance(fixtures, {
    ...options,
    backend: setup.backend,
    log: (s) => {
      lines.push(s);
      console.log(`[conformance ${backend}] ${s}`);
    },
  });
  report.env = { setup, userAgent: navigator.userAgent };
  return { report, text: formatReport(report), setup };
}

declare global {
  interface Window {
    fastts: {
      tf: typeof tf;
      webgpu: typeof webgpu;
      sharedIo: SharedIo;
      fetchBytes: typeof fetchBytes;
      droppedFolder: typeof droppedFolder;
      conformance: typeof conformance;
    };
  }
}

window.fastts = { tf, webgpu, sharedIo, fetchBytes, droppedFolder, conformance };
document.title = 'fastts test page: ready';
