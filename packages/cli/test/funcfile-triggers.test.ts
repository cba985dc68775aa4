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

  it('rejects a type other than http and stream, at the type line', () => {
    expect(problems(['triggers:', '  - name: hello', '    type: queue', '    source: /hello'])).toEqual([
      'func.yaml:7:11: "triggers[0].type" must be one of http, stream',
    ]);
    expect(problems(['triggers:', '  - name: hello', '    type: htpp', '    source: /hello'])).toEqual([
      'func.yaml:7:11: "triggers[0].type" must be one of http, stream; did you mean "http"?',
    ]);
  });

  it('rejects an unknown key in an entry, at its line, with the key it is a typo of', () => {
    expect(problems(['triggers:', '  - name: hello', '    type: http', '    source: /hello', '    sorce: /x', '    annotations: {a: b}'])).toEqual([
      'func.yaml:9:5: unknown key "triggers[0].sorce"; did you mean "source"?',
      'func.yaml:10:5: unknown key "triggers[0].annotations"; known keys: name, type, source, options (keys of your own start with "x-")',
    ]);
    expect(problems(['triggers:', '  - {name: hello, type: http, source: /hello, x-owner: web-team}'])).toEqual([]);
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
      'func.yaml:7:21: "triggers[0].type" must be one of http, stream',
    ]);
  });
});

describe('func.yaml stream triggers', () => {
  it('accepts a stream name or a kafka:// source and keeps the options as typed', () => {
    const { func } = parseFuncFile([
      ...HEAD,
      'triggers:',
      '  - name: orders',
      '    type: stream',
      '    source: orders.v1',
      '    options:',
      '      batch_size: 500',
      '      start_position: {offsets: {0: 12, 3: 0}}',
      '      bisect_on_error: false',
      '      value_encoding: json',
      '  - name: audit',
      '    type: stream',
      '    source: kafka://broker-1:9092,broker-2:9092/audit',
      '    options: {group_id: audit-consumers, start_position: {timestamp: 1767225600000}, drain_timeout_ms: 0}',
      '  - {name: bare, type: stream, source: clicks, options: }',
      '',
    ].join('\n'), 'func.yaml');
    expect(func.triggers).toEqual([
      {
        name: 'orders', type: 'stream', source: 'orders.v1',
        options: { batch_size: 500, start_position: { offsets: { 0: 12, 3: 0 } }, bisect_on_error: false, value_encoding: 'json' },
      },
      {
        name: 'audit', type: 'stream', source: 'kafka://broker-1:9092,broker-2:9092/audit',
        options: { group_id: 'audit-consumers', start_position: { timestamp: 1767225600000 }, drain_timeout_ms: 0 },
      },
      { name: 'bare', type: 'stream', source: 'clicks' },
    ]);
  });

  it('names an unknown option at its line with the option it is a typo of, or else lists the known ones', () => {
    expect(problems(['triggers:', '  - name: orders', '    type: stream', '    source: orders', '    options:', '      batchSize: 10'])).toEqual([
      'func.yaml:10:7: "triggers[0].options.batchSize" is not a stream trigger option; did you mean "batch_size"?',
    ]);
    expect(problems(['triggers:', '  - name: orders', '    type: stream', '    source: orders', '    options:', '      colour: red'])).toEqual([
      'func.yaml:10:7: "triggers[0].options.colour" is not a stream trigger option; known: batch_size, max_batch_bytes, '
      + 'max_wait_ms, start_position, max_attempts, backoff_initial_ms, backoff_max_ms, bisect_on_error, dead_letter_stream, '
      + 'max_record_age_ms, max_concurrency, value_encoding, paused, filter',
    ]);
  });

  it('checks each option value against its type, every problem at its own line', () => {
    expect(problems([
      'triggers:',
      '  - name: orders',
      '    type: stream',
      '    source: orders',
      '    options:',
      '      batch_size: 0',
      '      max_wait_ms: -5',
      '      start_position: newest',
      '      bisect_on_error: "yes"',
      '      value_encoding: text',
      '      dead_letter_stream: has space',
      '      max_attempts: 2.5',
    ])).toEqual([
      'func.yaml:10:19: "triggers[0].options.batch_size" must be an integer from 1 to 10000',
      'func.yaml:11:20: "triggers[0].options.max_wait_ms" must be a whole number (0 or more)',
      'func.yaml:12:23: "triggers[0].options.start_position" must be earliest, latest, {timestamp: <ms>} or {offsets: {<partition>: <offset>}}',
      'func.yaml:13:24: "triggers[0].options.bisect_on_error" must be true or false',
      'func.yaml:14:23: "triggers[0].options.value_encoding" must be one of base64, utf8, json',
      'func.yaml:15:27: "triggers[0].options.dead_letter_stream" must be a stream name (letters, digits, "_", "-", ".")',
      'func.yaml:16:21: "triggers[0].options.max_attempts" must be a whole number of at least 1',
    ]);
  });

  it('checks start_position objects, and that options is a map', () => {
    expect(problems([
      'triggers:',
      '  - {name: a, type: stream, source: s1, options: {start_position: {timestamp: "2026-01-01"}}}',
      '  - {name: b, type: stream, source: s2, options: {start_position: {offsets: {x: 1}}}}',
      '  - {name: c, type: stream, source: s3, options: [batch_size]}',
    ])).toEqual([
      'func.yaml:6:67: "triggers[0].options.start_position" must be earliest, latest, {timestamp: <ms>} or {offsets: {<partition>: <offset>}}; the timestamp is milliseconds since 1970',
      'func.yaml:7:67: "triggers[1].options.start_position" must be earliest, latest, {timestamp: <ms>} or {offsets: {<partition>: <offset>}}; partitions and offsets are whole numbers',
      'func.yaml:8:50: "triggers[2].options" must be a map of option: value',
    ]);
  });

  it('keeps Kafka-only options to kafka:// sources, and dead_letter_stream to embedded ones', () => {
    expect(problems([
      'triggers:',
      '  - {name: a, type: stream, source: orders, options: {group_id: g}}',
      '  - {name: b, type: stream, source: "kafka://k:9092/t", options: {dead_letter_stream: x}}',
    ])).toEqual([
      expect.stringMatching(/^func\.yaml:6:55: "triggers\[0\]\.options\.group_id" is not a stream trigger option; known: batch_size, .*paused, filter$/),
      expect.stringMatching(/^func\.yaml:7:67: "triggers\[1\]\.options\.dead_letter_stream" is not a stream trigger option of a kafka:\/\/ source; known: .*group_id, dead_letter_topic, max_buffered_bytes, drain_timeout_ms$/),
    ]);
  });

  it('rejects a bad stream source, options on an http trigger, and one stream read twice by the function', () => {
    expect(problems([
      'triggers:',
      '  - {name: a, type: stream, source: /orders}',
      '  - {name: b, type: stream, source: "kafka://broker/topic"}',
      '  - {name: c, type: http, source: /c, options: {batch_size: 1}}',
      '  - {name: d, type: stream, source: clicks}',
      '  - {name: e, type: stream, source: clicks}',
      '  - {name: f, type: http, source: clicks}',
    ])).toEqual([
      'func.yaml:6:37: "triggers[0].source" must be a stream name (letters, digits, "_", "-", "."; at most 255) or kafka://host:port[,host:port]/topic',
      'func.yaml:7:37: "triggers[1].source" must be a stream name (letters, digits, "_", "-", "."; at most 255) or kafka://host:port[,host:port]/topic',
      'func.yaml:8:39: "triggers[2].options" are for stream triggers only; an http trigger has none',
      'func.yaml:10:37: "triggers[4].source" repeats the stream source "clicks" of an earlier trigger',
    ]);
  });
});
