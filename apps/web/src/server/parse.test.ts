import { describe, expect, it } from 'vitest';
import { parseCsv, parseJsonl } from './parse';

describe('parseJsonl', () => {
  it('skips a partial last line while the file is growing, and counts malformed lines', () => {
    const text = '{"epoch":0}\nnot json\n{"epoch":1}\n{"epo';
    expect(parseJsonl(text, true)).toEqual({ rows: [{ epoch: 0 }, { epoch: 1 }], bad: 1 });
    expect(parseJsonl(text, false)).toEqual({ rows: [{ epoch: 0 }, { epoch: 1 }], bad: 2 });
  });
  it('reads a final line without newline once the run is over', () => {
    expect(parseJsonl('{"a":1}\n{"a":2}', false).rows).toEqual([{ a: 1 }, { a: 2 }]);
  });
});

describe('parseCsv', () => {
  it('handles quotes, commas in fields and CRLF', () => {
    const text = 'file,label,probability\r\n"test/a,b.jpg",walle,0.9\r\n"x""y.jpg",doraemon,0.75\n';
    expect(parseCsv(text)).toEqual([
      ['file', 'label', 'probability'],
      ['test/a,b.jpg', 'walle', '0.9'],
      ['x"y.jpg', 'doraemon', '0.75'],
    ]);
  });

  it('drops the partial last record of a file still being written', () => {
    expect(parseCsv('file,label\n"a.jpg",walle\n"b.j')).toEqual([
      ['file', 'label'],
      ['a.jpg', 'walle'],
    ]);
    expect(parseCsv('"unclosed')).toEqual([]);
  });
});
