'use client';
/** Re-renders the page every `seconds` while `active` (the runs list, while some run is training). */
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

export function AutoRefresh({ active, seconds = 5 }: { active: boolean; seconds?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => router.refresh(), seconds * 1000);
    return () => clearInterval(t);
  }, [active, seconds, router]);
  return null;
}
