import type { AppJson, FnJson, FnStats } from '@fnts/api';
import { getJson, listAll, request } from '../api.js';
import { fmtMs, Spark } from '../charts.js';
import { usePoll } from '../hooks.js';
import { parseMetrics, sampleValue, type Sample } from '../prometheus.js';
import { ago, Loading, Problem, Section } from './shared.js';

interface AppView {
  app: AppJson;
  fns: { fn: FnJson; stats: FnStats | undefined }[];
}

/** The image's tag reads as the function's version (what `fnts deploy` bumps); the last change time otherwise. */
export function fnVersion(fn: FnJson): string {
  const tag = /:([^/:@]+)$/.exec(fn.image)?.[1];
  return tag ?? ago(fn.updated_at);
}

async function loadApps(): Promise<{ apps: AppView[]; metrics: Sample[] }> {
  const [apps, metricsText] = await Promise.all([
    listAll<AppJson>('/v2/apps'),
    request('/metrics').then((r) => r.text()),
  ]);
  const views = await Promise.all(apps.map(async (app) => {
    const fns = await listAll<FnJson>(`/v2/fns?app_id=${encodeURIComponent(app.id)}`);
    return {
      app,
      fns: await Promise.all(fns.map(async (fn) => ({
        fn,
        // A function deleted between the two reads just has no stats this time.
        stats: await getJson<FnStats>(`/v2/fns/${encodeURIComponent(fn.id)}/stats`).catch(() => undefined),
      }))),
    };
  }));
  return { apps: views, metrics: parseMetrics(metricsText, ['fnts_queue_length', 'fnts_cold_starts_total', 'fnts_fn_containers']) };
}

/** A function's live containers as "hot · idle" (busy ones are hot; paused ones count as idle), from /metrics. */
function containersOf(samples: Parameters<typeof sampleValue>[0], fnId: string): string {
  const n = (state: string) => sampleValue(samples, 'fnts_fn_containers', { fn_id: fnId, state }) ?? 0;
  return `${n('busy')} hot · ${n('idle') + n('paused')} idle`;
}

/** Apps and their functions, with each function's last hour of calls. */
export function AppsPage() {
  const { data, error } = usePoll(loadApps, 5000);
  return (
    <>
      <h1>Functions</h1>
      <Problem error={error} />
      {!data && !error && <Loading what="apps" />}
      {data?.apps.length === 0 && <p class="muted">No apps yet: deploy one with <code>fnts deploy</code>.</p>}
      {data?.apps.map(({ app, fns }) => (
        <Section key={app.id} title={`App ${app.name}`}>
          {fns.length === 0 ? <p class="muted">No functions.</p> : (
            <div class="table-wrap">
              <table>
                <thead><tr>
                  <th scope="col">Function</th><th scope="col">Image</th><th scope="col">Version</th><th scope="col">Memory</th>
                  <th scope="col">Containers</th><th scope="col">Queued</th><th scope="col">Cold starts</th>
                  <th scope="col">Calls / min</th><th scope="col">p50 · p99</th><th scope="col">Errors</th>
                </tr></thead>
                <tbody>
                  {fns.map(({ fn, stats }) => {
                    const labels = { fn_id: fn.id };
                    const p50 = stats?.buckets.map((b) => b.p50_ms) ?? [];
                    const p99 = stats?.buckets.map((b) => b.p99_ms) ?? [];
                    return (
                      <tr key={fn.id}>
                        <th scope="row"><a href={`#/fns/${fn.id}`}>{fn.name}</a></th>
                        <td class="mono wrap">{fn.image}</td>
                        <td>{fnVersion(fn)}</td>
                        <td>{fn.memory} MiB</td>
                        <td>{containersOf(data.metrics, fn.id)}</td>
                        <td>{sampleValue(data.metrics, 'fnts_queue_length', labels) ?? 0}</td>
                        <td>{sampleValue(data.metrics, 'fnts_cold_starts_total', labels) ?? 0}</td>
                        <td><Spark kind="bars" label="calls" values={stats?.buckets.map((b) => b.calls) ?? []} /></td>
                        <td>
                          <Spark label="p50" values={p50} format={fmtMs} />
                          <Spark label="p99" values={p99} format={fmtMs} />
                        </td>
                        <td><Spark kind="bars" tone="bad" label="errors" values={stats?.buckets.map((b) => b.errors) ?? []} /></td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </Section>
      ))}
    </>
  );
}
