import { connection } from 'next/server';
import { PredictClient, type PredictRun } from '../../components/PredictClient';
import { listRuns, readRun } from '../../src/server/runs';

export const metadata = { title: 'Predict' };

/** The export file of a run: the `.safetensors` (or `.bin`) in its `model/` folder. */
function exportFile(modelFiles: readonly string[]): string | null {
  return modelFiles.find((f) => f.endsWith('.safetensors')) ?? modelFiles.find((f) => f.endsWith('.bin')) ?? null;
}

/** Predict: drop images, pick a run's exported model, see the top-k probabilities computed in the browser. */
export default async function PredictPage({ searchParams }: { searchParams: Promise<{ run?: string | string[] }> }) {
  await connection();
  const { run } = await searchParams;
  const runs: PredictRun[] = [];
  for (const s of await listRuns()) {
    if (s.status !== 'finished') continue;
    const r = await readRun(s.id).catch(() => null);
    const file = r && exportFile(r.modelFiles);
    if (r && file) runs.push({ id: r.id, arch: r.arch, classes: r.classes, file, accuracy: r.bestAccuracy });
  }
  const wanted = typeof run === 'string' ? run : undefined;
  return (
    <>
      <h1>Predict</h1>
      <p className="muted">Images never leave this browser: the model is downloaded and runs here.</p>
      <PredictClient runs={runs} initialRun={runs.some((r) => r.id === wanted) ? wanted! : (runs[0]?.id ?? null)} />
    </>
  );
}
