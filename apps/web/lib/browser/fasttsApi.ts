/**
 * The part of `@fastts/webgpu` (and the `@fastts/core` it re-exports) that the dashboard's browser pages use,
 * written down structurally so the app type-checks against the contract rather than against whatever build of
 * those packages happens to be in `dist/`. The module is loaded lazily and cast to this.
 */

/** What `setupBackend` reports. */
export interface BackendReport {
  backend: 'webgpu' | 'wasm' | 'webgl' | 'cpu';
  description: string;
  skipped: { backend: string; reason: string }[];
}

/** Core's pixel format. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Core's storage functions (MemoryStorage implements them). */
export interface LearnerStorage {
  writeFile(path: string, data: Uint8Array): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  remove(path: string): Promise<void>;
}

/** The module as the dashboard sees it; members other engineers add later are optional. */
export interface FasttsWeb {
  setupBackend(o: { backend?: 'auto' | 'webgpu' | 'wasm' | 'webgl'; wasmPaths?: string; allowFallbackAdapter?: boolean }): Promise<BackendReport>;
  decodeImage(src: Blob, o?: { name?: string; target?: unknown }): Promise<DecodedImage>;
  MemoryStorage: new () => LearnerStorage & { files: Map<string, Uint8Array> };
  [name: string]: unknown;
}
