import { describe, expect, it } from 'vitest';
import { CliError, ExitCode, formatError, InterruptedError, toCliError, UsageError } from './errors.js';

describe('formatError', () => {
  it('prints one line with what is wrong and what to do, no stack without --verbose', () => {
    const text = formatError(new UsageError("data folder 'x' does not exist", { hint: 'check the path' }));
    expect(text).toBe("error: data folder 'x' does not exist; check the path\n");
  });
  it('adds the stack traces of the error and its causes with --verbose', () => {
    const cause = new Error('inner');
    const text = formatError(new CliError('outer', { cause }), { verbose: true });
    const lines = text.split('\n');
    expect(lines[0]).toBe('error: outer');
    expect(text).toContain('at ');
    expect(text).toContain('caused by: Error: inner');
  });
  it('collapses multi-line library messages into one line', () => {
    expect(formatError(new Error('first line\n  second line\n'))).toBe('error: first line second line\n');
  });
  it('colours the prefix only when asked', () => {
    expect(formatError(new Error('x'), { color: true })).toBe('\u001b[31merror:\u001b[39m x\n');
  });
  it('says interrupted for Ctrl-C', () => {
    expect(formatError(new InterruptedError('stopped'))).toBe('interrupted: stopped\n');
  });
});

describe('toCliError', () => {
  it('keeps CliErrors and their exit codes', () => {
    const e = new UsageError('bad');
    expect(toCliError(e)).toBe(e);
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(new InterruptedError('x').exitCode).toBe(130);
  });
  it('maps library errors to exit 1 and unknown-architecture errors to exit 2', () => {
    expect(toCliError(new Error('corrupt image')).exitCode).toBe(1);
    const unknown = Object.assign(new Error("unknown architecture 'resnet343'; did you mean resnet34?"), {
      name: 'UnknownArchError',
    });
    const mapped = toCliError(unknown);
    expect(mapped.exitCode).toBe(2);
    expect(mapped.line).toContain('did you mean resnet34');
  });
  it('says system errors in words with the path', () => {
    const err = Object.assign(new Error('EACCES: permission denied, open /x/y'), { code: 'EACCES', path: '/x/y' });
    expect(toCliError(err).line).toBe("'/x/y': permission denied; choose a path you can read/write, or fix its permissions");
  });
  it('maps aborts to exit 130 and non-errors to exit 1', () => {
    expect(toCliError(Object.assign(new Error('aborted'), { name: 'AbortError' })).exitCode).toBe(130);
    expect(toCliError('boom').line).toBe('boom');
    expect(toCliError('boom').exitCode).toBe(1);
  });
});
