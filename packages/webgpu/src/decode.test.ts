import { describe, expect, it } from 'vitest';
import { fitRect } from './decode.js';

describe('fitRect', () => {
  it('keeps the whole image at its own size without a target', () => {
    expect(fitRect(640, 480, undefined)).toEqual({ sx: 0, sy: 0, sw: 640, sh: 480, width: 640, height: 480 });
  });
  it('fill squishes the whole image to the target', () => {
    expect(fitRect(640, 480, { width: 96, height: 96, fit: 'fill' })).toEqual({
      sx: 0,
      sy: 0,
      sw: 640,
      sh: 480,
      width: 96,
      height: 96,
    });
  });
  it('cover crops the centre with the target aspect ratio', () => {
    const r = fitRect(640, 480, { width: 96, height: 96, fit: 'cover' });
    expect(r).toMatchObject({ sw: 480, sh: 480, sx: 80, sy: 0, width: 96, height: 96 });
    const tall = fitRect(300, 900, { width: 100, height: 200, fit: 'cover' });
    expect(tall).toMatchObject({ sw: 300, sh: 600, sx: 0, sy: 150 });
  });
  it('inside keeps the aspect ratio and never enlarges', () => {
    expect(fitRect(640, 480, { width: 320, height: 320, fit: 'inside' })).toMatchObject({ width: 320, height: 240 });
    expect(fitRect(100, 50, { width: 320, height: 320, fit: 'inside' })).toMatchObject({ width: 100, height: 50 });
  });
});
