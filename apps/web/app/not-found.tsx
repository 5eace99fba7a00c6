import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="card" data-testid="not-found">
      <h1>Not found</h1>
      <p>There is no such run or page. Run ids are the folder names in the runs directory.</p>
      <p>
        <Link href="/">Back to the runs</Link>
      </p>
    </div>
  );
}
