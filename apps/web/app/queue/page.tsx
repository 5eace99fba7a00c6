import Link from 'next/link';
import { connection } from 'next/server';
import { listCachedArchs } from '../../src/server/files';
import { dataRoot, JOB_STATES, listDataSets, listJobs, redisShown, type JobRow } from '../../src/server/queue';
import { runPageUrl } from '../../lib/urls';
import { RunsLive } from '../../components/RunsLive';

export const metadata = { title: 'Queue' };

type SearchParams = Record<string, string | string[] | undefined>;

const one = (v: string | string[] | undefined): string | null => (typeof v === 'string' ? v : null);

/** The job's state as a badge (the runs list's colours: active = running, completed = finished). */
function StateBadge({ state }: { state: JobRow['state'] }) {
  const cls = state === 'active' ? 'running' : state === 'completed' ? 'finished' : state === 'failed' ? 'failed' : 'unknown';
  return <span className={`status ${cls}`}>{state}</span>;
}

/** The form that enqueues a training job for a data set folder under the data root. */
async function SubmitForm() {
  const [sets, archs] = await Promise.all([listDataSets(), listCachedArchs()]);
  if (!dataRoot()) {
    return (
      <p className="muted" data-testid="no-data-root">
        Start the dashboard with <code>--data-root &lt;dir&gt;</code> to submit training jobs from here.
      </p>
    );
  }
  return (
    <form method="post" action="/api/queue/train" className="card row" data-testid="submit-train">
      <strong>Train</strong>
      <label>
        data set{' '}
        <select name="dataset" required data-testid="submit-dataset">
          {sets.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        arch{' '}
        <select name="arch" required data-testid="submit-arch">
          {archs.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <label>
        size <input name="size" type="number" min={16} max={1024} defaultValue={224} style={{ width: '5rem' }} />
      </label>
      <label>
        epochs <input name="epochs" type="number" min={0} defaultValue={1} style={{ width: '4rem' }} />
      </label>
      <label>
        unfrozen <input name="unfreezeEpochs" type="number" min={0} defaultValue={0} style={{ width: '4rem' }} />
      </label>
      <label>
        bs <input name="bs" type="number" min={1} defaultValue={64} style={{ width: '4rem' }} />
      </label>
      <label>
        lr <input name="lr" placeholder="3e-3" size={7} />
      </label>
      <label>
        seed <input name="seed" type="number" min={0} style={{ width: '5rem' }} />
      </label>
      <button type="submit" data-testid="submit-button">
        Submit
      </button>
    </form>
  );
}

/** The Queue page: the jobs of the fastts queue by state, with progress and links to their runs. */
export default async function QueuePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const params = await searchParams;
  const where = redisShown();
  if (!where) {
    return (
      <>
        <h1>Queue</h1>
        <div className="card" data-testid="no-queue">
          <p>This dashboard has no job queue.</p>
          <p className="muted">
            Start it with <code>fastts dashboard --redis redis://host:6379</code> (or <code>FASTTS_REDIS_URL</code>) to see the
            jobs of <code>fastts worker</code>s and submit training runs.
          </p>
        </div>
      </>
    );
  }
  let data: Awaited<ReturnType<typeof listJobs>> | null = null;
  let problem: string | null = null;
  try {
    data = await listJobs();
  } catch (e) {
    problem = e instanceof Error ? e.message : 'Redis is unreachable';
  }
  const submitted = one(params.submitted);
  const error = one(params.error);
  return (
    <>
      <h1>
        Queue <RunsLive />
      </h1>
      <p className="muted">Redis {where}</p>
      {submitted ? (
        <p className="card" data-testid="submitted">
          Submitted job <code>{submitted}</code>.
        </p>
      ) : null}
      {error ? (
        <p className="error-box" data-testid="submit-error">
          {error.slice(0, 300)}
        </p>
      ) : null}
      <SubmitForm />
      {problem || !data ? (
        <p className="error-box" data-testid="queue-error">
          Cannot read the queue: {problem}
        </p>
      ) : (
        <>
          <ul className="facts" data-testid="queue-counts">
            {JOB_STATES.map((s) => (
              <li key={s}>
                <span>{s}</span>
                <b data-testid={`count-${s}`}>{data!.counts[s] ?? 0}</b>
              </li>
            ))}
          </ul>
          <div className="table-wrap">
            <table className="runs" data-testid="jobs-table">
              <thead>
                <tr>
                  <th>job</th>
                  <th>kind</th>
                  <th>state</th>
                  <th>progress</th>
                  <th>run / output</th>
                  <th>attempts</th>
                  <th className="hide-phone">submitted</th>
                </tr>
              </thead>
              <tbody>
                {data.jobs.map((j) => (
                  <tr key={j.id} data-testid="job-row" data-job-id={j.id} data-state={j.state}>
                    <td>
                      {j.id}
                      {j.sweepId ? <div className="muted">{j.sweepId}</div> : null}
                    </td>
                    <td>{j.name}</td>
                    <td>
                      <StateBadge state={j.state} />
                      {j.failedReason ? (
                        <div className="muted" data-testid="failed-reason">
                          {j.failedReason}
                        </div>
                      ) : null}
                    </td>
                    <td style={{ minWidth: '10rem' }}>
                      {j.percent !== null ? (
                        <div className="bar" title={`${j.percent}%`}>
                          <div style={{ width: `${j.percent}%` }} />
                        </div>
                      ) : null}
                      <span className="muted">{j.progress ?? ''}</span>
                    </td>
                    <td>{j.runId ? <Link href={runPageUrl(j.runId)}>{j.runId}</Link> : (j.output ?? '—')}</td>
                    <td>{j.attempts}</td>
                    <td className="hide-phone">{j.createdAt.replace('T', ' ').slice(0, 19)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
