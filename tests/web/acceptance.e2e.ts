/**
 * The dashboard's acceptance on a real run: `fastts train` (the built CLI) on doraemon-walle with a small model
 * writes a run; the dashboard's production build then shows it in the runs list, its confusion matrix counts are
 * the run's, its top-losses grid shows k images, and the predict page labels the test images as the CLI did.
 * Screenshots of the real run at 1280x800 and on a phone go to tests/web/artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORAEMON_WALLE } from '../../test-support/shared';
import { collect, startCli, type CliResult } from '../cli/run-cli';
import { artifact, launchBrowser, startServer, type Dashboard } from './harness';

const RUN_ID = 'acceptance-mobilenet_v1_0.25_224';
let base: string;
let runDir: string;
let cliJson: { runDir: string; classes: string[]; valid: { loss: number; accuracy: number }; epochs: unknown[] };
let dash: Dashboard;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let training: Promise<CliResult>;

/** Waits for the CLI run to end and checks it succeeded. */
async function trained(): Promise<void> {
  if (cliJson) return;
  const r = await training;
  if (r.code !== 0) throw new Error(`fastts train failed (${r.code}):\n${r.stderr.slice(-3000)}`);
  cliJson = JSON.parse(r.stdout) as typeof cliJson;
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'fastts-web-accept-'));
  mkdirSync(join(base, 'runs'));
  runDir = join(base, 'runs', RUN_ID);
  // The dashboard watches the run while the CLI trains it.
  dash = await startServer(join(base, 'runs'));
  ({ browser, close: closeBrowser } = await launchBrowser());
  const args = [
    'train',
    DORAEMON_WALLE,
    '--arch',
    'mobilenet_v1_0.25_224',
    '--size',
    '128',
    '--epochs',
    '1',
    '--test',
    'test',
    '--seed',
    '42',
    '--bs',
    '32',
    '--json',
    '--out',
    runDir,
  ];
  training = collect(startCli(args), 600_000);
  training.catch(() => undefined);
}, 600_000);

afterAll(async () => {
  await closeBrowser?.();
  await dash?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('a real CLI run in the dashboard', () => {
  it('follows the run live while the CLI trains, until it finishes', async () => {
    const p = await (await dash.context(browser, { viewport: { width: 1280, height: 800 } })).newPage();
    await expect.poll(() => existsSync(join(runDir, 'status.json')), { timeout: 120_000, interval: 200 }).toBe(true);
    await p.goto(`${dash.url}/runs/${RUN_ID}`);
    const first = await p.getByTestId('run-status').innerText();
    if (first === 'running') {
      await expect.poll(() => p.getByTestId('live-indicator').innerText(), { timeout: 30_000 }).toContain('live');
      await p.screenshot({ path: artifact('real-run-live-1280x800.png'), fullPage: true });
      // No reload from here on: the page must update itself.
      await expect.poll(() => p.getByTestId('run-status').innerText(), { timeout: 600_000, interval: 1000 }).toBe('finished');
    }
    await trained();
    expect(first, 'the page was opened while the CLI was still training').toBe('running');
    await expect.poll(() => p.locator('[data-testid="epoch-table"] tbody tr').count(), { timeout: 15_000 }).toBe(1);
    await p.context().close();
  }, 660_000);

  it('is in the runs list, finished, with the CLI accuracy', async () => {
    await trained();
    const p = await (await dash.context(browser, { viewport: { width: 1280, height: 800 } })).newPage();
    await p.goto(dash.url);
    const row = p.locator(`[data-run-id="${RUN_ID}"]`);
    const text = await row.innerText();
    expect(text).toContain('finished');
    expect(text).toContain('mobilenet_v1_0.25_224');
    expect(text).toContain('doraemon-walle');
    expect(await row.getByTestId('best-accuracy').innerText()).toBe(`${(cliJson.valid.accuracy * 100).toFixed(1)}%`);
    await p.screenshot({ path: artifact('real-runs-1280x800.png'), fullPage: true });
    await p.context().close();
  });

  it('shows the run at 1280x800 and on a phone (screenshots in tests/web/artifacts/)', async () => {
    await trained();
    const p = await (await dash.context(browser, { viewport: { width: 1280, height: 800 } })).newPage();
    await p.goto(`${dash.url}/runs/${RUN_ID}`);
    await p.waitForLoadState('networkidle');
    await p.screenshot({ path: artifact('real-run-1280x800.png'), fullPage: true });
    await p.context().close();
    const phone = await (
      await dash.context(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    ).newPage();
    for (const [path, name] of [
      [`/runs/${RUN_ID}`, 'real-run'],
      ['/', 'real-runs'],
    ] as const) {
      await phone.goto(`${dash.url}${path}`);
      await phone.waitForLoadState('networkidle');
      expect(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), path).toBeLessThanOrEqual(0);
      await phone.screenshot({ path: artifact(`${name}-phone-390x844.png`), fullPage: true });
    }
    await phone.context().close();
  });

  it('shows the confusion matrix with the run numbers, the curves and the test predictions', async () => {
    await trained();
    const p = await (await dash.context(browser, { viewport: { width: 1280, height: 800 } })).newPage();
    await p.goto(`${dash.url}/runs/${RUN_ID}`);
    const interp = JSON.parse(readFileSync(join(runDir, 'interpretation.json'), 'utf8')) as { confusion: number[][] };
    let total = 0;
    let diag = 0;
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++) {
        const n = Number(await p.getByTestId(`cm-cell-${a}-${b}`).innerText());
        expect(n).toBe(interp.confusion[a]![b]);
        total += n;
        if (a === b) diag += n;
      }
    expect(total).toBe(33); // doraemon-walle's valid set: 16 + 17
    expect(diag / total).toBeCloseTo(cliJson.valid.accuracy, 6);
    const curvePoints = Number(
      await p.locator('[data-testid="loss-chart"] [data-series="train (batch)"]').getAttribute('data-points'),
    );
    expect(curvePoints).toBe(readFileSync(join(runDir, 'batches.jsonl'), 'utf8').trim().split('\n').length);
    expect(await p.getByTestId('test-prediction').count()).toBe(6);
    await p.context().close();
  });

  it('shows the top losses as a grid of k images', async () => {
    await trained();
    const p = await (await dash.context(browser, { viewport: { width: 1280, height: 800 } })).newPage();
    await p.goto(`${dash.url}/runs/${RUN_ID}`);
    const interp = JSON.parse(readFileSync(join(runDir, 'interpretation.json'), 'utf8')) as { topLosses?: number[]; k?: number };
    const k = interp.topLosses?.length ?? Math.min(interp.k ?? 9, 33);
    expect(await p.getByTestId('top-loss').count()).toBe(k);
    // Pictures, not placeholders: the CLI writes thumbs/valid/<i>.jpg (RUN_FORMAT.md), the dashboard serves them.
    const loaded = () =>
      p
        .locator('[data-testid="top-loss"] img')
        .evaluateAll(
          (imgs) => imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0).length,
        );
    await expect.poll(loaded, { message: 'top-loss thumbnails loaded (does the CLI write thumbs/valid/<i>.jpg?)' }).toBe(k);
    await p.context().close();
  });

  it('labels the test images on the predict page as the CLI did, in the browser', async () => {
    await trained();
    expect(existsSync(join(runDir, 'model'))).toBe(true);
    const csv = readFileSync(join(runDir, 'test_predictions.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const cli = new Map(csv.map(([file, label, prob]) => [basename(file!), { label: label!, prob: Number(prob) }]));
    const p = await (await dash.context(browser, { viewport: { width: 1280, height: 800 } })).newPage();
    await p.goto(`${dash.url}/predict?run=${RUN_ID}`);
    const tests = readdirSync(join(DORAEMON_WALLE, 'test'))
      .sort()
      .map((f) => join(DORAEMON_WALLE, 'test', f));
    await p.getByTestId('predict-input').setInputFiles(tests);
    await expect.poll(() => p.getByTestId('predict-status').innerText(), { timeout: 120_000 }).toContain('done: 6 images');
    const got = await p
      .getByTestId('prediction')
      .evaluateAll((els) =>
        els.map((e) => [e.querySelector('.file')?.textContent ?? '', e.getAttribute('data-label') ?? ''] as [string, string]),
      );
    console.log('predict page:', JSON.stringify(got), 'cli:', JSON.stringify([...cli]));
    expect(got).toHaveLength(6);
    // Same model, same labels wherever the CLI was confident (browser and sharp decoders differ slightly).
    for (const [file, label] of got) {
      const c = cli.get(file);
      expect(c, `CLI prediction for ${file}`).toBeDefined();
      if (c!.prob >= 0.75) expect(label, file).toBe(c!.label);
    }
    // And the file names tell the truth: the page labels test images correctly.
    const right = got.filter(([file, label]) => file.startsWith(`${label}.`)).length;
    expect(right).toBeGreaterThanOrEqual(5);
    await p.screenshot({ path: artifact('real-predict-1280x800.png'), fullPage: true });
    await p.context().close();
  });
});
