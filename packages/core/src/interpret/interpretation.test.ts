import { describe, expect, it } from 'vitest';
import { ClassificationInterpretation } from './interpretation.js';
import { InterpretationError } from './errors.js';

const classes = ['cat', 'dog', 'bird'];
// 6 items: 2 cats (one called dog), 3 dogs (one called cat, one bird), 1 bird
const probs = [
  [0.8, 0.1, 0.1],
  [0.3, 0.6, 0.1],
  [0.1, 0.7, 0.2],
  [0.5, 0.4, 0.1],
  [0.2, 0.1, 0.7],
  [0.1, 0.1, 0.8],
];
const targets = [0, 0, 1, 1, 1, 2];
const items = ['c1.jpg', 'c2.jpg', 'd1.jpg', 'd2.jpg', 'd3.jpg', 'b1.jpg'];

describe('ClassificationInterpretation', () => {
  const interp = new ClassificationInterpretation({ probs, targets, classes, items });

  it('computes cross-entropy losses and the top losses in order', () => {
    expect(interp.losses[0]).toBeCloseTo(-Math.log(0.8), 6);
    const { losses, indices } = interp.topLosses(3);
    expect(indices).toEqual([4, 1, 3]); // -log 0.1, -log 0.3, -log 0.4
    expect(losses[0]).toBeCloseTo(-Math.log(0.1), 5);
    expect(interp.topLosses(2, false).indices).toEqual([0, 5]); // equal losses keep item order
  });

  it('titles top losses prediction/actual/loss/probability-of-actual like fast.ai', () => {
    const [worst] = interp.topLossItems(1);
    expect(worst).toMatchObject({ index: 4, item: 'd3.jpg', actual: 'dog', predicted: 'bird' });
    expect(interp.title(worst!)).toBe('bird/dog / 2.30 / 0.10');
  });

  it('counts the confusion matrix with actual classes as rows', () => {
    expect(interp.confusionMatrix()).toEqual([
      [1, 1, 0],
      [1, 1, 1],
      [0, 0, 1],
    ]);
    expect(interp.accuracy()).toBeCloseTo(0.5, 9);
  });

  it('lists the most confused pairs with at least minVal items', () => {
    expect(interp.mostConfused()).toEqual([
      ['cat', 'dog', 1],
      ['dog', 'cat', 1],
      ['dog', 'bird', 1],
    ]);
    expect(interp.mostConfused(2)).toEqual([]);
  });

  it('renders the confusion matrix as SVG with class names and counts', () => {
    const svg = interp.plotConfusionMatrix();
    expect(svg.startsWith('<svg')).toBe(true);
    for (const c of classes) expect(svg).toContain(`>${c}</text>`);
    expect(svg).toContain('>Predicted</text>');
    expect(svg).toContain('>Actual</text>');
    expect(svg.match(/<rect x=/g)).toHaveLength(9);
  });

  it('plots the top losses as an image grid titled prediction/actual and loss/probability', async () => {
    const img = (i: number) => ({ data: new Uint8Array(8 * 8 * 3).fill(i * 40), width: 8, height: 8 });
    const withImages = new ClassificationInterpretation({ probs, targets, classes, items, loadImage: async (i) => img(i) });
    const svg = await withImages.plotTopLosses(3);
    expect(svg.match(/<image /g)).toHaveLength(3);
    expect(svg).toContain('>bird/dog</tspan>');
    expect(svg).toContain('>2.30 / 0.10</tspan>');
    expect(svg).toContain('prediction/actual/loss/probability');
    await expect(interp.plotTopLosses(3)).rejects.toThrow(/needs the images/);
  });

  it('escapes class names in SVG', () => {
    const i2 = new ClassificationInterpretation({
      probs: [
        [1, 0],
        [0, 1],
      ],
      targets: [0, 1],
      classes: ['a<b', 'c&d'],
    });
    const svg = i2.plotConfusionMatrix();
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('c&amp;d');
  });

  it('rejects unlabelled targets and mismatched shapes with a clear message', () => {
    expect(() => new ClassificationInterpretation({ probs: [[1, 0]], targets: [-1], classes: ['a', 'b'] })).toThrow(/test set/);
    expect(() => new ClassificationInterpretation({ probs: [1, 0, 0], targets: [0], classes: ['a', 'b'] })).toThrow(
      InterpretationError,
    );
  });
});
