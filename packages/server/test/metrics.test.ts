import { describe, expect, it } from 'vitest';
import { fnLabels, Metrics } from '../src/metrics.js';

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
});
