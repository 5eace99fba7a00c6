import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');

/**
 * Content Security Policy of the pages: everything from this origin only (Next's inline bootstrap scripts and
 * styles aside), images also from object URLs of dropped files, WebAssembly compilation for the wasm backend.
 */
const csp = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Security headers for every response: the dashboard never embeds itself or third-party content. */
const securityHeaders = [
  { key: 'Content-Security-Policy', value: csp },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: 'no-referrer' },
];

const nextConfig: NextConfig = {
  // The monorepo root, so that workspace packages (@fastts/core, @fastts/webgpu) resolve through its node_modules.
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  poweredByHeader: false,
  // The queue client (Queue page) loads its Lua scripts from its own folder: required at run time, not bundled.
  serverExternalPackages: ['bullmq', 'ioredis'],
  reactStrictMode: true,
  // No image optimizer: sharp's install script is denied, and every image comes from the run directory as is.
  images: { unoptimized: true },
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders }];
  },
};

export default nextConfig;
