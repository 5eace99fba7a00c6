/**
 * Builds the Node conformance runner (./node-run.ts) into a git-ignored folder inside the repository, so that the
 * bundle resolves its external native packages (`webgpu`, `sharp`) from the workspace's node_modules.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test-support/shared';
import { bundleForNode } from '../browser/bundle';

/** Bundles the runner; returns the path of `conformance.mjs` and a cleanup function. */
export async function buildNodeRunner(): Promise<{ script: string; cleanup: () => void }> {
  const dir = join(REPO_ROOT, 'tests', '.cache', `conformance-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'conformance.mjs');
  await bundleForNode(join(REPO_ROOT, 'tests', 'conformance', 'node-run.ts'), script);
  return { script, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
