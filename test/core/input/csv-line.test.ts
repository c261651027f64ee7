import { describe, expect, it } from 'vitest';
import { splitCsvLine } from '../../../lambda/core/input/csv-line.js';

describe('splitCsvLine', () => {
  it.each([
    ['', ['']],
    ['a', ['a']],
    ['a,b,c', ['a', 'b', 'c']],
    ['a,,c', ['a', '', 'c']],
    ['a,', ['a', '']],
    [',', ['', '']],
    ['"a"', ['a']],
    ['""', ['']],
    ['"a,b",c', ['a,b', 'c']],
    ['x,"say ""hi""",y', ['x', 'say "hi"', 'y']],
    ['""""', ['"']],
    ['"a",', ['a', '']],
    ['"a","b"', ['a', 'b']],
    [' a , b ', [' a ', ' b ']],
    ['a"b,c', ['a"b', 'c']],
    ['https://e.com/?q="x",1', ['https://e.com/?q="x"', '1']],
  ])('splits %j', (line, fields) => {
    expect(splitCsvLine(line)).toEqual(fields);
  });

  it.each([['"unterminated'], ['a,"b'], ['"a"b,c'], ['"a" ,b'], ['"a""']])('rejects %j', (line) => {
    expect(splitCsvLine(line)).toBeNull();
  });
});
