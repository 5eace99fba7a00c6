/**
 * Opens the bundled test page (./page.ts) in headless Chromium: builds it with esbuild into a temporary folder,
 * serves it on 127.0.0.1 with the wasm binaries (/wasm/) and the shared data (/shared/), and waits until the page
 * has set up `window.fastts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { SHARED_DIR, requireShared } from '../../test-support/shared';
import { bundleForBrowser } from './bundle';
import { launchChromium } from './chromium';
import { startStaticServer, type StaticRoute } from './server';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The folder holding tfjs-backend-wasm's `.wasm` files. */
export function wasmDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
}

/** A page with `window.fastts`, and everything needed to tear it down. */
export interface TestPage {
  page: Page;
  url: string;
  /** Opens another page of the same browser on the test page (a fresh tfjs, no backend chosen yet). */
  newPage(): Promise<Page>;
  /** Console lines of the page so far (for failure messages). */
  consoleLines: string[];
  close(): Promise<void>;
}

/** Builds, serves and opens the test page; `routes` adds folders to serve (e.g. generated images). */
export async function openTestPage(routes: StaticRoute[] = []): Promise<TestPage> {
  requireShared();
  const out = mkdtempSync(join(tmpdir(), 'fastts-page-'));
  await bundleForBrowser(join(HERE, 'page.ts'), join(out, 'page.js'));
  writeFileSync(
    join(out, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>fastts test page</title><link rel="icon" href="data:,"></head>' +
      '<body><script type="module" src="/page.js"></script></body></html>',
  );
  const server = await startStaticServer([
    ...routes,
    { prefix: '/wasm/', dir: wasmDir() },
    { prefix: '/shared/', dir: SHARED_DIR },
    { prefix: '/', dir: out },
  ]);
  const browser = await launchChromium();
  const consoleLines: string[] = [];
  const close = async () => {
    await browser.close().catch(() => {});
    await server.close();
    rmSync(out, { recursive: true, force: true });
  };
  try {
    const newPage = async (): Promise<Page> => {
      const page = await browser.context.newPage();
      page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => document.title.endsWith('ready'), undefined, { timeout: 60_000 });
      return page;
    };
    const page = await newPage();
    return { page, url: server.url, newPage, consoleLines, close };
  } catch (e) {
    await close();
    throw new Error(`the test page did not start: ${(e as Error).message}\n${consoleLines.join('\n')}`);
  }
}
