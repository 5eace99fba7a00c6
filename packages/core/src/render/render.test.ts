import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageGridSvg } from './image-grid.js';
import { bytesToBase64, encodePng, pngDataUri, tensorToImages } from './png.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('render helpers', () => {
  it('base64-encodes like RFC 4648', () => {
    expect(bytesToBase64(enc(''))).toBe('');
    expect(bytesToBase64(enc('M'))).toBe('TQ==');
    expect(bytesToBase64(enc('Ma'))).toBe('TWE=');
    expect(bytesToBase64(enc('Man'))).toBe('TWFu');
    expect(bytesToBase64(Uint8Array.from([0xfb, 0xff, 0xbf]))).toBe('+/+/');
  });

  it('encodes RGB images as PNG that decode to the same pixels', () => {
    const img = { data: Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256), width: 5, height: 4 };
    const back = decode(encodePng(img));
    expect([back.width, back.height, back.channels]).toEqual([5, 4, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
    expect(pngDataUri(img)).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
  });

  it('turns a float batch into clipped, rounded RGB bytes', async () => {
    const x = tf.tensor4d([-5, 0.4, 0.6, 254.6, 300, 128, 1, 2, 3, 4, 5, 6], [2, 1, 2, 3]);
    const [a, b] = await tensorToImages(x);
    expect(Array.from(a!.data)).toEqual([0, 0, 1, 255, 255, 128]);
    expect([b!.width, b!.height]).toEqual([2, 1]);
    x.dispose();
  });

  it('lays tiles out in a grid with escaped, multi-line titles', () => {
    const img = { data: new Uint8Array(2 * 2 * 3), width: 2, height: 2 };
    const svg = imageGridSvg([{ image: img, title: 'walle\n0.93 & <ok>' }, { image: img }, { image: img, title: 'x' }], {
      cols: 2,
      tileSize: 50,
      gap: 10,
      heading: 'Top losses',
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('width="130"'); // 10 + 2 * (50 + 10)
    expect(svg.match(/<image /g)).toHaveLength(3);
    expect(svg).toMatch(/<tspan x="35" y="\d+">walle<\/tspan><tspan x="35" y="\d+">0.93/);
    expect(svg).toContain('0.93 &amp; &lt;ok&gt;');
    expect(svg).toContain('Top losses');
  });

  it('shrinks long titles and the heading to their width instead of running into the next tile', () => {
    const image = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4 };
    const long = 'a_long_class_name_here/another_class_name'; // 41 characters
    const svg = imageGridSvg(
      [
        { image, title: `${long}\n0.10 / 0.90` },
        { image, title: 'cat/dog' },
      ],
      {
        tileSize: 224,
        fontSize: 16,
        heading: 'prediction/actual/loss/probability',
        cols: 1,
      },
    );
    const sizes = [...svg.matchAll(/font-size="(\d+)"/g)].map((m) => Number(m[1]));
    // heading (bold, 34 characters in a 224 px wide grid), the long title, the short one
    expect(sizes[0]! * 34 * 0.66).toBeLessThanOrEqual(224);
    expect(sizes[1]! * long.length * 0.6).toBeLessThanOrEqual(224);
    expect(sizes[1]).toBeLessThan(16);
    expect(sizes[2]).toBe(16);
  });
});
