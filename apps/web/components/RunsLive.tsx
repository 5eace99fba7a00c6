'use client';
/**
 * Keeps the runs list current: listens to `/api/events` (one stream per viewer, all fed by the server's one runs
 * index) and re-renders the page when the list changes, at most once a second.
 */
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';

/** Minimum time between two refreshes of the list. */
const MIN_REFRESH_MS = 1000;

export function RunsLive() {
  const router = useRouter();
  const [live, setLive] = useState(false);
  useEffect(() => {
    const es = new EventSource('/api/events');
    let last = 0;
    let pending: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      pending = null;
      last = Date.now();
      router.refresh();
    };
    es.addEventListener('change', () => {
      if (pending) return;
      const wait = last + MIN_REFRESH_MS - Date.now();
      if (wait <= 0) refresh();
      else pending = setTimeout(refresh, wait);
    });
    es.onopen = () => setLive(true);
    es.onerror = () => setLive(false);
    return () => {
      if (pending) clearTimeout(pending);
      es.close();
    };
  }, [router]);
  return (
    <span className={`live ${live ? 'live' : 'reconnecting'}`} data-testid="runs-live" data-live={live ? 'yes' : 'no'}>
      {live ? '● live' : '○ connecting…'}
    </span>
  );
}
