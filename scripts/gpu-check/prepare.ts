/**
 * Prepares the GPU-machine check in `.gpu-check/` (git-ignored, < 60 MiB, carried to a machine with no Node and
 * no network):
 *   node.xz              this machine's /usr/bin/node (official static-ish build), xz-compressed
 *   webgpu/              the `webgpu` package's index.js + package.json, and dawn.node.xz (linux-x64)
 *   libvulkan.so.1       Debian's Vulkan loader (from `apt-get download libvulkan1`, else the installed copy)
 *   glibc.tar.xz         Debian 12's C/C++ runtime, used only when the machine's is too old for dawn.node
 *   gpu-check.mjs        esbuild bundle of ./gpu-check.ts (conformance suite + ResNet-34 benchmark + adapters)
 *   pack.bin.xz          the conformance fixtures: MobileNet v1 0.25 files, photos, doraemon-walle pre-decoded
 * Run from the repository root after `npx turbo run build`:  npx tsx scripts/gpu-check/prepare.ts
 * Then carry `.gpu-check` and run `bash scripts/gpu-check/run.sh` there (see README.md).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import { nodePlatform } from '@fastts/node-gpu/platform';
import { REPO_ROOT, SHARED_DIR, requireShared } from '../../test-support/shared';
import { PHOTO_NAMES } from '../../tests/conformance/fixtures';
import { PackWriter } from '../../tests/conformance/packed';
import { ARCH, TRAIN_SIZE } from '../../tests/conformance/suite';

const OUT = join(REPO_ROOT, '.gpu-check');
const require = createRequire(import.meta.url);

function xz(src: string, dest: string): void {
  if (existsSync(dest) && statSync(dest).mtimeMs > statSync(src).mtimeMs) {
    console.log(`  ${relative(REPO_ROOT, dest)} is up to date`);
    return;
  }
  console.log(`  xz ${src} -> ${relative(REPO_ROOT, dest)} (takes a few minutes for node)`);
  writeFileSync(dest, execFileSync('xz', ['-T0', '-6', '-c', src], { maxBuffer: 1 << 30 }));
}

async function bundle(): Promise<void> {
  const entry = join(REPO_ROOT, 'scripts', 'gpu-check', 'gpu-check.ts');
  await build({
    entryPoints: [entry],
    outfile: join(OUT, 'gpu-check.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    ignoreAnnotations: true, // see tests/browser/bundle.ts: keep tfjs' side-effect imports
    external: ['webgpu', '@tensorflow/tfjs-node-gpu'],
    banner: {
      js: `import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);`,
    },
  });
  console.log(`  gpu-check.mjs ${(statSync(join(OUT, 'gpu-check.mjs')).size / 1e6).toFixed(1)} MB`);
}

async function pack(): Promise<void> {
  const w = new PackWriter();
  const models = join(SHARED_DIR, 'models');
  for (const f of readdirSync(join(models, ARCH))) {
    if (f === 'model.json' || f.includes('shard')) w.addFile(`models/${ARCH}/${f}`, readFileSync(join(models, ARCH, f)));
  }
  w.addFile('models/imagenet-samples/expected.json', readFileSync(join(models, 'imagenet-samples', 'expected.json')));
  for (const name of PHOTO_NAMES) {
    const path = join(models, 'imagenet-samples', name);
    const probe = await nodePlatform.probeImage(path);
    w.addImage(
      `models/imagenet-samples/${name}`,
      await nodePlatform.decodeImage(path, { width: probe.width, height: probe.height, fit: 'fill' }),
      null,
    );
  }
  // The training check's DataBunch decodes at round(1.5 * size), squished (core's fromFolder).
  const d = Math.round(1.5 * TRAIN_SIZE);
  const target = { width: d, height: d, fit: 'fill' as const };
  const root = join(SHARED_DIR, 'datasets', 'doraemon-walle');
  let n = 0;
  for (const split of ['train', 'valid']) {
    for (const label of readdirSync(join(root, split)).sort()) {
      for (const f of readdirSync(join(root, split, label)).sort()) {
        const img = await nodePlatform.decodeImage(join(root, split, label, f), target);
        w.addImage(`datasets/doraemon-walle/${split}/${label}/${f}`, img, target);
        n++;
      }
    }
  }
  const tmp = mkdtempSync(join(tmpdir(), 'fastts-pack-'));
  writeFileSync(join(tmp, 'pack.bin'), w.toBytes());
  writeFileSync(join(OUT, 'pack.bin.xz'), execFileSync('xz', ['-T0', '-6', '-c', join(tmp, 'pack.bin')], { maxBuffer: 1 << 30 }));
  rmSync(tmp, { recursive: true, force: true });
  console.log(`  pack.bin.xz: ${n} data-set images at ${d}x${d}, ${PHOTO_NAMES.length} photos, ${ARCH}`);
}

function vulkanLoader(): void {
  const dest = join(OUT, 'libvulkan.so.1');
  const tmp = mkdtempSync(join(tmpdir(), 'fastts-vk-'));
  try {
    execFileSync('apt-get', ['download', 'libvulkan1'], { cwd: tmp, stdio: 'ignore' });
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'))!;
    execFileSync('dpkg', ['-x', deb, 'x'], { cwd: tmp });
    const lib = join(tmp, 'x', 'usr', 'lib', 'x86_64-linux-gnu');
    const so = readdirSync(lib).find((f) => /^libvulkan\.so\.1\.\d/.test(f))!;
    copyFileSync(join(lib, so), dest);
    console.log(`  libvulkan.so.1 from ${deb}`);
  } catch {
    copyFileSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1', dest);
    console.log('  libvulkan.so.1 copied from this machine (apt-get download libvulkan1 failed)');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function dawn(): void {
  const pkg = dirname(require.resolve('webgpu/package.json'));
  const dir = join(OUT, 'node_modules', 'webgpu');
  mkdirSync(dir, { recursive: true });
  for (const f of ['index.js', 'package.json', 'LICENSE.md']) copyFileSync(join(pkg, f), join(dir, f));
  xz(join(pkg, 'dist', 'linux-x64', 'dawn.node'), join(OUT, 'dawn.node.xz'));
}

/**
 * Debian 12's C/C++ runtime (glibc 2.36, libstdc++ GLIBCXX_3.4.30): dawn.node needs glibc >= 2.34 and
 * GLIBCXX_3.4.30; run.sh starts Node through this dynamic loader only when the GPU machine's own runtime is older.
 */
function glibc(): void {
  const dir = mkdtempSync(join(tmpdir(), 'fastts-glibc-'));
  const libs = [
    'ld-linux-x86-64.so.2',
    'libc.so.6',
    'libm.so.6',
    'libstdc++.so.6',
    'libgcc_s.so.1',
    'libdl.so.2',
    'libpthread.so.0',
    'librt.so.1',
  ];
  for (const lib of libs) copyFileSync(join('/lib/x86_64-linux-gnu', lib), join(dir, lib));
  execFileSync('tar', ['-cf', join(dir, 'glibc.tar'), '-C', dir, ...libs]);
  writeFileSync(
    join(OUT, 'glibc.tar.xz'),
    execFileSync('xz', ['-T0', '-6', '-c', join(dir, 'glibc.tar')], { maxBuffer: 1 << 30 }),
  );
  rmSync(dir, { recursive: true, force: true });
  console.log(`  glibc.tar.xz (Debian 12 runtime, fallback for older systems)`);
}

function total(dir: string): number {
  let s = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    s += e.isDirectory() ? total(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  }
  return s;
}

async function main(): Promise<void> {
  requireShared();
  if (!existsSync(join(REPO_ROOT, 'packages', 'webgpu', 'dist', 'kernels.js'))) {
    throw new Error('packages are not built: run `npx turbo run build` first');
  }
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, '.gitignore'), '*\n');
  console.log(`preparing ${OUT}`);
  await bundle();
  await pack();
  vulkanLoader();
  glibc();
  dawn();
  xz(existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath, join(OUT, 'node.xz'));
  const mib = total(OUT) / 2 ** 20;
  console.log(`.gpu-check: ${mib.toFixed(1)} MiB`);
  if (mib > 60) throw new Error(`.gpu-check is ${mib.toFixed(1)} MiB, over the 60 MiB that may be carried`);
}

main().catch((e: unknown) => {
  console.error(`prepare: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
