/**
 * The browser side of fastts for the dashboard's pages: one tfjs backend per page (WebGPU, else wasm, else
 * WebGL, through @fastts/webgpu), loading a run's exported model over HTTP, and top-k predictions for dropped
 * files. Imported only by client components; @fastts/webgpu is loaded lazily so the pages render without it.
 */
import type * as FasttsWebModule from '@fastts/webgpu';
import type { BackendReport } from '@fastts/webgpu';

/** `@fastts/webgpu` (which re-exports @fastts/core's API), as the dashboard's pages load it. */
export type FasttsWeb = typeof FasttsWebModule;

export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'webgl';

let lib: Promise<FasttsWeb> | null = null;

/** @fastts/webgpu, loaded once (lazily: the pages render without it). */
export function fastts(): Promise<FasttsWeb> {
  lib ??= import('@fastts/webgpu');
  return lib;
}

let backend: { choice: BackendChoice; report: Promise<BackendReport> } | null = null;

/** Sets up the tfjs backend once per page (again only when a different choice is asked for). */
export function ensureBackend(choice: BackendChoice = 'auto'): Promise<BackendReport> {
  if (!backend || backend.choice !== choice) {
    // setupBackend also registers the gradient kernels core composes for backends that lack them (wasm).
    const report = fastts().then((f) => f.setupBackend({ backend: choice, wasmPaths: '/tfjs-wasm/' }));
    backend = { choice, report };
    report.catch(() => {
      backend = null;
    });
  }
  return backend.report;
}

/** Fetches a URL's bytes, with a readable error naming it. */
export async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      msg = ((await res.json()) as { error?: string }).error ?? msg;
    } catch {
      /* not JSON */
    }
    throw new Error(`could not download ${what}: ${msg}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

/** One class and its probability. */
export interface ClassProb {
  label: string;
  probability: number;
}

/** A model ready to predict in the browser. */
export interface BrowserModel {
  classes: readonly string[];
  /** Top-k classes for one image file, most probable first. */
  predict(file: Blob, k: number): Promise<ClassProb[]>;
  dispose(): void;
}

/** Sorts probabilities into the top k classes. */
export function topK(probs: ArrayLike<number>, classes: readonly string[], k: number): ClassProb[] {
  return Array.from(probs, (p, i) => ({ label: classes[i] ?? String(i), probability: p }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, Math.max(1, k));
}
