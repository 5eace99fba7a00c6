import { describe, expect, it } from 'vitest';
import { describeLayout } from './train';

describe('describeLayout', () => {
  it('finds the data set root and its train/valid/test folders in a dropped folder', () => {
    const l = describeLayout(['dw/train/walle/1.jpg', 'dw/train/doraemon/2.jpg', 'dw/valid/walle/3.jpg', 'dw/test/4.jpg']);
    expect(l).toEqual({ root: 'dw', train: true, valid: true, test: true, labels: ['doraemon', 'walle'] });
  });
  it('takes label folders at the root as classes (a validation percentage is then used)', () => {
    expect(describeLayout(['pets/cat/1.jpg', 'pets/dog/2.jpg'])).toEqual({
      root: 'pets',
      train: false,
      valid: false,
      test: false,
      labels: ['cat', 'dog'],
    });
  });
  it('handles files dropped without a parent folder', () => {
    expect(describeLayout(['train/a/1.jpg', 'train/b/1.jpg'])).toMatchObject({ root: '', train: true, labels: ['a', 'b'] });
  });
});
