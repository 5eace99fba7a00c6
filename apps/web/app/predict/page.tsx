import { connection } from 'next/server';
import { PredictClient, type PredictRun } from '../../components/PredictClient';
import { runsIndex } from '../../src/server/runsIndex';

export const metadata = { title: 'Predict' };

/** Finished runs offered at most (newest first); a run asked for by `?run=` is offered too. */
const MAX_OFFERED = 200;

/** Predict: drop images, pick a run's exported model, see the top-k probabilities computed in the browser. */
export default async function PredictPage({ searchParams }: { searchParams: Promise<{ run?: string | string[] }> }) {
  await connection();
  const { run } = await searchParams;
  const wanted = typeof run === 'string' ? run : undefined;
  const index = runsIndex();
  await index.ready();
  // From the index: finished runs with an exported model, newest first; no run directory is read here.
  const runs: PredictRun[] = [];
  for (const s of index.sorted('date:desc')) {
    if (s.status !== 'finished' || (runs.length >= MAX_OFFERED && s.id !== wanted)) continue;
    const r = index.get(s.id);
    if (r?.exportFile) runs.push({ id: s.id, arch: s.arch, classes: s.classes, file: r.exportFile, accuracy: s.bestAccuracy });
  }
  return (
    <>
      <h1>Predict</h1>
      <p className="muted">Images never leave this browser: the model is downloaded and runs here.</p>
      <PredictClient runs={runs} initialRun={runs.some((r) => r.id === wanted) ? wanted! : (runs[0]?.id ?? null)} />
    </>
  );
}
