'use client';
/**
 * Keeps the runs list current: listens to `/api/events` (one stream per visible tab, all fed by the server's one
 * runs index) and re-renders the page when the list changes, at most once a second. A hidden tab closes its stream
 * (browsers allow only six HTTP/1.1 connections per server) and refreshes when shown again.
 */
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';

/** Minimum time between two refreshes of the list. */
const MIN_REFRESH_MS = 1000;

export function RunsLive() {
  const router = useRouter();
  const [live, setLive] = useState(false);
  useEffect(() => {
    let es: EventSource | null = null;
    let last = 0;
    let pending: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      pending = null;
      last = Date.now();
      router.refresh();
    };
    const open = () => {
      es = new EventSource('/api/events');
      es.addEventListener('change', () => {
        if (pending) return;
        const wait = last + MIN_REFRESH_MS - Date.now();
        if (wait <= 0) refresh();
        else pending = setTimeout(refresh, wait);
      });
      es.onopen = () => setLive(true);
      es.onerror = () => setLive(false);
    };
    const close = () => {
      es?.close();
      es = null;
      setLive(false);
    };
    const onVisibility = () => {
      if (document.hidden) close();
      else if (!es) {
        open();
        refresh(); // whatever changed while hidden
      }
    };
    if (!document.hidden) open();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      if (pending) clearTimeout(pending);
      close();
    };
  }, [router]);
  return (
    <span className={`live ${live ? 'live' : 'reconnecting'}`} data-testid="runs-live" data-live={live ? 'yes' : 'no'}>
      {live ? '● live' : '○ connecting…'}
    </span>
  );
}
