'use client';
export default function GlobalError({ error }: { error: Error & { digest?: string } }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'sans-serif', padding: '2rem' }}>
        <h1>fastts dashboard: something went wrong</h1>
        <p>The server log has the details{error.digest ? ` (reference ${error.digest})` : ''}.</p>
      </body>
    </html>
  );
}
