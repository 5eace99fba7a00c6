/**
 * Starts a backend by fastts name in Node for the conformance runner: `wasm` (the CPU path, through the Node
 * platform's `setupBackend` when present), `webgpu` (Dawn), `cuda` (tfjs-node-gpu), `cpu` (reference).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerMissingKernels } from '@fastts/core/kernels';
import * as nodeGpu from '@fastts/node-gpu';
import { tryCuda, tryDawnWebgpu, type WebGpuAdapterSummary } from '../../packages/node-gpu/src/backend/gpu/index.js';

/** The backend the runner uses. */
export interface NodeBackendSetup {
  /** fastts name asked for. */
  name: string;
  /** tfjs backend name now active. */
  tfBackend: string;
  description: string;
  adapter?: WebGpuAdapterSummary;
}

type SetupBackendFn = (o: { backend: string }) => Promise<{ backend?: string; description?: string } & object>;

/** Starts `name` and makes it active; throws the adapter's readable error when it cannot. */
export async function setupNodeBackend(name: string): Promise<NodeBackendSetup> {
  if (name === 'webgpu' || name === 'cuda') {
    const r = name === 'webgpu' ? await tryDawnWebgpu() : await tryCuda();
    if (!r.ok) throw r.error;
    return { name, tfBackend: r.tfBackend, description: r.description, ...(r.adapter ? { adapter: r.adapter } : {}) };
  }
  if (name === 'cpu') {
    await tf.setBackend('cpu');
    return { name, tfBackend: 'cpu', description: 'tfjs-backend-cpu (pure JS reference)' };
  }
  const setupBackend = (nodeGpu as unknown as Record<string, unknown>).setupBackend as SetupBackendFn | undefined;
  if (setupBackend) {
    const r = await setupBackend({ backend: name });
    return { name, tfBackend: tf.getBackend(), description: JSON.stringify(r) };
  }
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to start`);
  const kernels = registerMissingKernels(name);
  return {
    name,
    tfBackend: name,
    description:
      `${name} (registered directly: @fastts/node-gpu has no setupBackend yet; ` +
      `composed kernels added: ${kernels.added.join(', ') || 'none'})`,
  };
}

/** The setup as report fields. */
export function describeNodeBackend(s: NodeBackendSetup): Record<string, unknown> {
  const base = { requested: s.name, tfBackend: s.tfBackend, description: s.description };
  return s.adapter ? { ...base, adapter: s.adapter } : base;
}
