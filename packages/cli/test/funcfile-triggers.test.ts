// func.yaml `triggers:` validation: every problem reported at once, each with its line and column.
import { describe, expect, it } from 'vitest';
import { CliError } from '../src/errors.js';
import { parseFuncFile } from '../src/funcfile.js';

const HEAD = ['schema_version: 20180708', 'name: hello', 'version: 0.0.1', 'runtime: typescript'];

function problems(lines: string[]): string[] {
  try {
    parseFuncFile([...HEAD, ...lines, ''].join('\n'), 'func.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe('FNTS_ERR_FUNCFILE_INVALID');
    return (err as CliError).message.split('\n').slice(1).map((l) => l.trim());
  }
  return [];
}

describe('func.yaml triggers', () => {
  it('accepts a list of {name, type, source} and keeps it', () => {
    const { func } = parseFuncFile(
      [...HEAD, 'triggers:', '  - name: hello', '    type: http', '    source: /hello', '  - {name: two, type: http, source: two}', ''].join('\n'),
      'func.yaml',
    );
    expect(func.triggers).toEqual([
      { name: 'hello', type: 'http', source: '/hello' },
      { name: 'two', type: 'http', source: 'two' },
    ]);
  });

  it('accepts an empty triggers key or list', () => {
    expect(problems(['triggers:'])).toEqual([]);
    expect(problems(['triggers: []'])).toEqual([]);
  });

  it('rejects triggers that are not a list, at its line', () => {
    expect(problems(['triggers: hello'])).toEqual(['func.yaml:5:11: "triggers" must be a list of {name, type, source}']);
  });

  it('rejects an entry that is not a map', () => {
    expect(problems(['triggers:', '  - hello'])).toEqual(['func.yaml:6:5: "triggers[0]" must be a map with name, type and source']);
  });

  it('reports missing fields at the entry', () => {
    expect(problems(['triggers:', '  - name: hello'])).toEqual([
      'func.yaml:6:5: "triggers[0].type" is missing',
      'func.yaml:6:5: "triggers[0].source" is missing',
    ]);
  });

  it('rejects a type other than http, at the type line', () => {
    expect(problems(['triggers:', '  - name: hello', '    type: stream', '    source: /hello'])).toEqual([
      'func.yaml:7:11: "triggers[0].type" must be one of http',
    ]);
  });

  it('rejects bad names and sources, and every problem is listed with its own line', () => {
    expect(problems([
      'triggers:',
      '  - name: has.dot',
      '    type: http',
      '    source: ""',
      '  - name: ok',
      '    type: http',
      '    source: /a path',
    ])).toEqual([
      'func.yaml:6:11: "triggers[0].name" must be letters, digits, "_" or "-" (at most 255)',
      'func.yaml:8:13: "triggers[0].source" must be a non-empty string',
      'func.yaml:11:13: "triggers[1].source" must be a URL path such as /hello (no spaces, "?" or "#")',
    ]);
  });

  it('rejects repeated names and repeated sources (with or without the leading /)', () => {
    expect(problems([
      'triggers:',
      '  - {name: a, type: http, source: /x}',
      '  - {name: a, type: http, source: /y}',
      '  - {name: b, type: http, source: x}',
    ])).toEqual([
      'func.yaml:7:12: "triggers[1].name" repeats "a"; trigger names must be unique',
      'func.yaml:8:35: "triggers[2].source" repeats the http source "x" of an earlier trigger',
    ]);
  });

  it('reports trigger problems together with the other fields', () => {
    const found = problems(['memory: 0', 'triggers:', '  - {name: a, type: ftp, source: /x}']);
    expect(found).toEqual([
      'func.yaml:5:9: "memory" must be an integer from 1 to 8192',
      'func.yaml:7:21: "triggers[0].type" must be one of http',
    ]);
  });
});
