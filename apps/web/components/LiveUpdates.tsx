'use client';
/**
 * While a run is training, listens to the server-sent events of `/api/runs/<id>/events` and re-renders the
 * page (a server-component refresh) whenever the run's files change; stops when the run ends.
 */
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';

export function LiveUpdates({ runId, running, since }: { runId: string; running: boolean; since: string }) {
  const router = useRouter();
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting' | 'off'>(running ? 'connecting' : 'off');
  useEffect(() => {
    if (!running) {
      setState('off');
      return;
    }
    const es = new EventSource(`/api/runs/${encodeURIComponent(runId)}/events?since=${encodeURIComponent(since)}`);
    es.addEventListener('change', () => router.refresh());
    es.addEventListener('end', () => {
      es.close();
      setState('off');
      router.refresh();
    });
    es.onopen = () => setState('live');
    es.onerror = () => setState('reconnecting');
    return () => es.close();
  }, [runId, running, since, router]);
  if (state === 'off') return null;
  return (
    <span className={`live ${state}`} data-testid="live-indicator">
      {state === 'live' ? '● live' : state === 'connecting' ? '○ connecting…' : '○ reconnecting…'}
    </span>
  );
}
