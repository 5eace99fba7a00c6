'use client';
/** The error page: a readable message, never a stack trace (production builds redact server errors). */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="card error-box" data-testid="error-page">
      <h1>Something went wrong</h1>
      <p>
        The dashboard could not show this page. The server log has the details{error.digest ? ` (reference ${error.digest})` : ''}
        .
      </p>
      <button type="button" onClick={() => reset()}>
        Try again
      </button>
    </div>
  );
}
