import { describe, expect, it } from 'vitest';
import { mostConfused } from './mostConfused';

describe('mostConfused', () => {
  it('lists the off-diagonal pairs with at least minVal items, largest first', () => {
    const classes = ['cat', 'dog', 'fox'];
    const cm = [
      [5, 2, 0],
      [3, 7, 1],
      [0, 2, 4],
    ];
    expect(mostConfused(classes, cm)).toEqual([
      ['dog', 'cat', 3],
      ['cat', 'dog', 2],
      ['fox', 'dog', 2],
      ['dog', 'fox', 1],
    ]);
    expect(mostConfused(classes, cm, 2)).toHaveLength(3);
    expect(
      mostConfused(
        ['a', 'b'],
        [
          [4, 0],
          [0, 5],
        ],
      ),
    ).toEqual([]);
  });
});
