/**
 * The public API report (`api/*.api.md`, written by `npm run api:update`) matches what each package entry point
 * exports: a name added, removed or changed in kind without updating the report fails here (and so in CI).
 */
import { describe, expect, it } from 'vitest';
import { checkReports } from '../../scripts/api-report.js';

describe('the public API report', () => {
  it('matches the exports of every entry point (npm run api:update after an intended change)', () => {
    expect(checkReports()).toEqual([]);
  }, 120_000);
});
