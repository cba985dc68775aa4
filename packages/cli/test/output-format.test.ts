// The pieces read commands share: the text table, KEY=VALUE flags, integer flags.
import { describe, expect, it } from 'vitest';
import { parseAnnotationPairs, parseConfigPairs, parseIntFlag } from '../src/pairs.js';
import { formatTable } from '../src/table.js';

describe('formatTable', () => {
  it('aligns columns two spaces apart with no trailing spaces', () => {
    const rows = [{ n: 'a', id: '1', x: 'end' }, { n: 'longer', id: '22', x: '' }];
    const text = formatTable([
      { heading: 'NAME', cell: (r: (typeof rows)[number]) => r.n },
      { heading: 'ID', cell: (r) => r.id },
      { heading: 'X', cell: (r) => r.x },
    ], rows);
    expect(text).toBe('NAME    ID  X\na       1   end\nlonger  22\n');
  });

  it('prints only the heading for no rows', () => {
    expect(formatTable([{ heading: 'NAME', cell: (r: string) => r }], [])).toBe('NAME\n');
  });
});

describe('KEY=VALUE flags', () => {
  it('splits config at the first "="', () => {
    expect(parseConfigPairs(['A=1', 'URL=x?a=b', 'EMPTY='])).toEqual({ A: '1', URL: 'x?a=b', EMPTY: '' });
  });

  it('rejects an entry with no key', () => {
    expect(() => parseConfigPairs(['=1'])).toThrow('--config "=1" must look like KEY=VALUE');
  });

  it('reads annotation values as JSON when they parse, else as text', () => {
    expect(parseAnnotationPairs(['a=text', 'b=42', 'c={"x":[1]}', 'd="quoted"'])).toEqual({
      a: 'text', b: 42, c: { x: [1] }, d: 'quoted',
    });
  });
});

describe('integer flags', () => {
  it('parses whole numbers and names the flag otherwise', () => {
    expect(parseIntFlag('--memory')('256')).toBe(256);
    expect(() => parseIntFlag('--memory')('12MB')).toThrow('--memory "12MB" is not a whole number');
    expect(() => parseIntFlag('--timeout')('1.5')).toThrow('--timeout "1.5" is not a whole number');
  });
});
