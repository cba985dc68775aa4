import { describe, expect, it } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import { CallHistogram, fnLabels, Metrics } from '../src/metrics.js';

/** The exposition format as prom-client writes it, read back the way a Prometheus scraper reads a label set. */
function series(text: string, name: string): Record<string, string>[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).map((line) => {
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const labels: Record<string, string> = {};
    for (const m of body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    return labels;
  });
}

describe('metrics labels', () => {
  it("a function's series carry its id, its app's name and its own name", async () => {
    const m = new Metrics({ defaultMetrics: false });
    const labels = fnLabels({ name: 'shop' }, { id: '01FN', name: 'checkout' });
    m.calls.add({ ...labels, outcome: 'success' });
    m.callDuration.observe(labels, 0.2);
    m.queueLength.set(labels, 2);
    const text = await m.registry.metrics();
    expect(text).toContain('fnts_calls_total{fn_id="01FN",app_name="shop",fn_name="checkout",outcome="success"} 1');
    expect(text).toContain('fnts_call_duration_seconds_count{fn_id="01FN",app_name="shop",fn_name="checkout"} 1');
    expect(text).toContain('fnts_queue_length{fn_id="01FN",app_name="shop",fn_name="checkout"} 2');
  });

  it('names are escaped as the exposition format asks, and read back unchanged', async () => {
    const m = new Metrics({ defaultMetrics: false });
    // The API allows none of these in names today; the labels must stay parseable if it ever does.
    const awkward = 'quote" back\\slash\nnewline ünïcode';
    m.calls.add({ ...fnLabels({ name: awkward }, { id: 'F', name: 'fn' }), outcome: 'error' });
    const text = await m.registry.metrics();
    expect(text).toContain(String.raw`app_name="quote\" back\\slash\nnewline ünïcode"`);
    expect(series(text, 'fnts_calls_total')).toEqual([{ fn_id: 'F', app_name: awkward, fn_name: 'fn', outcome: 'error' }]);
  });

  it('a tally counts what was added per label set, once, however often it is read, and holds only so many sets unread', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const ok = { ...fnLabels({ name: 'shop' }, { id: '01FN', name: 'checkout' }), outcome: 'success' as const };
    for (let i = 0; i < 5; i++) m.calls.add(ok);
    // Another object with the same labels is the same series.
    m.calls.add({ ...ok }, 2);
    const value = async () => (await m.calls.counter.get()).values.find((v) => v.labels.outcome === 'success')?.value;
    expect(await value()).toBe(7);
    expect(await m.registry.metrics()).toContain('fnts_calls_total{fn_id="01FN",app_name="shop",fn_name="checkout",outcome="success"} 7');
    m.calls.add(ok);
    expect(await value()).toBe(8);
    expect(await value()).toBe(8);
    // A caller that makes a fresh label object for every call cannot grow the tally without bound: past its cap it
    // hands what it holds to the counter.
    for (let i = 0; i < 2500; i++) m.calls.add({ ...ok, outcome: 'error' });
    expect((m.calls as unknown as { pending: Map<unknown, number> }).pending.size).toBeLessThanOrEqual(1000);
    expect((await m.calls.counter.get()).values.find((v) => v.labels.outcome === 'error')?.value).toBe(2500);
  });

  it('the call histogram writes what prom-client\'s Histogram writes for the same observations', async () => {
    const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    const theirs = new Registry();
    const ours = new Registry();
    const names = ['fn_id', 'app_name', 'fn_name'] as const;
    const reference = new Histogram({ name: 'x_seconds', help: 'h', labelNames: names, buckets, registers: [theirs] });
    const histogram = new CallHistogram('x_seconds', 'h', names, buckets, ours);
    const a = fnLabels({ name: 'q"x' }, { id: 'A', name: 'f' });
    const b = fnLabels({ name: 'shop' }, { id: 'B', name: 'g' });
    // Values on the bounds, between them, below the first and past the last; b's labels in a fresh object each time.
    for (const v of [0.00001, 0.001, 0.003, 0.2, 1, 60, 70]) {
      reference.observe(a, v);
      histogram.observe(a, v);
      reference.observe({ ...b }, v * 2);
      histogram.observe({ ...b }, v * 2);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('x_seconds_count{fn_id="B",app_name="shop",fn_name="g"} 7');
    expect(text).toContain('x_seconds_bucket{le="0.001",fn_id="A",app_name="q\\"x",fn_name="f"} 2');
  });
});
