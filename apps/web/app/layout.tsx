import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'fastts dashboard', template: '%s · fastts' },
  description: 'Watch fastts training runs live, explore mistakes, predict and train in the browser.',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="top">
          <Link href="/" className="brand">
            fastts
          </Link>
          <nav>
            <Link href="/">Runs</Link>
            <Link href="/predict">Predict</Link>
            <Link href="/train">Train</Link>
            <Link href="/queue">Queue</Link>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
