/**
 * Connections to the Redis server behind the work queue. The URL (`--redis`, or `FASTTS_REDIS_URL`) may carry a
 * password (`redis://:secret@host:6379`, `redis://user:secret@host`) and TLS (`rediss://`); it is never logged or
 * written anywhere as given: messages show it with the password as `***`.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { redactRedisUrl } from '@fastts/core/runs';
import { CliError, UsageError } from '../errors.js';

export { redactRedisUrl };

/** Checks that `url` is a Redis URL (`redis://` or `rediss://`); throws a usage error otherwise. */
export function checkRedisUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--redis '${redactRedisUrl(url)}' is not a URL`, {
      hint: 'give redis://[:password@]host[:port][/db] (rediss:// for TLS)',
    });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UsageError(`--redis '${redactRedisUrl(url)}' is not a redis:// or rediss:// URL`, {
      hint: 'give redis://[:password@]host[:port][/db] (rediss:// for TLS)',
    });
  }
  return url;
}

/**
 * A client for BullMQ: retries commands across reconnections (BullMQ requires `maxRetriesPerRequest: null`) and
 * reconnects forever, at most 2 s apart.
 */
export function connectRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
}

/** Removes the URL's password from any text (an error message that quotes it, say). */
export function scrubSecret(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // not a URL: nothing to scrub
  }
  return password ? text.split(password).join('***') : text;
}

/**
 * Connects once and pings, failing fast: throws a {@link CliError} (exit 1) that says which server could not be
 * reached and why (refused, timed out, wrong password), with the password redacted.
 */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let first: Error | undefined; // the socket's own error (ECONNREFUSED...), clearer than "Connection is closed"
  probe.on('error', (e: Error) => (first ??= e));
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    const e = first ?? err;
    const reason = scrubSecret(e instanceof Error ? e.message : String(e), url);
    throw new CliError(`cannot reach Redis at ${redactRedisUrl(url)} (${reason})`, {
      hint: 'start redis-server there, or give the right URL with --redis (redis://[:password@]host:port, rediss:// for TLS)',
    });
  } finally {
    probe.disconnect();
  }
}
