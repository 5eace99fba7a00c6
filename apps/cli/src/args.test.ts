import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatLr, parseFraction, parseLr, parseNonNegativeInt, parsePositiveInt } from './args.js';

describe('parseLr', () => {
  it('reads a single learning rate as a number', () => {
    expect(parseLr('3e-3')).toBe(0.003);
    expect(parseLr('0.01')).toBe(0.01);
    expect(parseLr('1E-4')).toBe(1e-4);
  });
  it('reads lo:hi as slice(lo, hi) and :hi as slice(hi)', () => {
    expect(parseLr('1e-5:3e-4')).toEqual({ lo: 1e-5, hi: 3e-4 });
    expect(parseLr(':3e-3')).toEqual({ hi: 3e-3 });
    expect(parseLr('1e-4:1e-4')).toEqual({ lo: 1e-4, hi: 1e-4 });
  });
  it.each([
    ['abc', 'not a positive number'],
    ['', 'not a positive number'],
    ['0', 'not a positive number'],
    ['-1e-3', 'not a positive number'],
    ['0x10', 'not a positive number'],
    ['Infinity', 'not a positive number'],
    ['1e-3:', "upper learning rate '' is not a positive number"],
    ['x:1e-3', "lower learning rate 'x'"],
    ['1e-3:1e-5', 'goes down'],
    ['1:2:3', "more than one ':'"],
  ])('rejects %j with a reason and an example', (text, reason) => {
    expect(() => parseLr(text)).toThrow(InvalidArgumentError);
    expect(() => parseLr(text)).toThrow(reason);
    expect(() => parseLr(text)).toThrow('such as 1e-5:3e-4');
  });
  it('formats back to the command-line form', () => {
    for (const t of ['0.003', '0.00001:0.0003', ':0.003']) expect(formatLr(parseLr(t))).toBe(t);
  });
});

describe('integer and fraction options', () => {
  it('accepts positive integers and rejects the rest', () => {
    expect(parsePositiveInt('64')).toBe(64);
    for (const bad of ['0', '-3', '2.5', 'ten', '', '1e400']) expect(() => parsePositiveInt(bad)).toThrow(InvalidArgumentError);
    expect(parseNonNegativeInt('0')).toBe(0);
    expect(() => parseNonNegativeInt('-1')).toThrow('>= 0');
  });
  it('accepts --valid-pct strictly between 0 and 1', () => {
    expect(parseFraction('0.2')).toBe(0.2);
    for (const bad of ['0', '1', '20', '-0.1', 'half']) expect(() => parseFraction(bad)).toThrow('between 0 and 1');
  });
});
