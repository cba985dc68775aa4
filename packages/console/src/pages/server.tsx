import { getJson, request } from '../api.js';
import { fmtNum } from '../charts.js';
import { usePoll } from '../hooks.js';
import { parseMetrics, sampleValue } from '../prometheus.js';
import { Loading, Problem, Section } from './shared.js';

const SERIES = [
  'fnts_containers', 'fnts_memory_reserved_mib', 'fnts_memory_budget_mib', 'fnts_queue_length',
  'fnts_process_process_resident_memory_bytes', 'fnts_process_process_start_time_seconds',
];

async function loadServer() {
  const [version, text] = await Promise.all([
    getJson<{ version: string }>('/version'),
    request('/metrics').then((r) => r.text()),
  ]);
  return { version: version.version, samples: parseMetrics(text, SERIES) };
}

/** The server as /metrics and /version describe it: containers, memory, queues. */
export function ServerPage() {
  const { data, error } = usePoll(loadServer, 5000);
  const samples = data?.samples ?? [];
  const containers = samples.filter((s) => s.name === 'fnts_containers');
  const reserved = sampleValue(samples, 'fnts_memory_reserved_mib') ?? 0;
  const budget = sampleValue(samples, 'fnts_memory_budget_mib');
  const queues = samples.filter((s) => s.name === 'fnts_queue_length');
  const started = sampleValue(samples, 'fnts_process_process_start_time_seconds');
  const rss = sampleValue(samples, 'fnts_process_process_resident_memory_bytes');
  return (
    <>
      <h1>Server</h1>
      <Problem error={error} />
      {!data && !error && <Loading what="the server's metrics" />}
      {data && (
        <>
          <dl class="facts">
            <div><dt>Version</dt><dd data-testid="server-version">{data.version}</dd></div>
            {started !== undefined && <div><dt>Up since</dt><dd>{new Date(started * 1000).toLocaleString()}</dd></div>}
            {rss !== undefined && <div><dt>Server memory</dt><dd>{fmtNum(Math.round(rss / 1048576))} MiB</dd></div>}
          </dl>
          <Section title="Containers">
            <dl class="facts">
              {containers.map((c) => <div key={c.labels.state}><dt>{c.labels.state}</dt><dd>{c.value}</dd></div>)}
              <div><dt>total</dt><dd>{containers.reduce((n, c) => n + c.value, 0)}</dd></div>
            </dl>
          </Section>
          <Section title="Memory budget">
            {budget !== undefined && (
              <>
                <meter min={0} max={budget} value={reserved} aria-label="memory reserved by containers" />
                <p>{fmtNum(reserved)} MiB of {fmtNum(budget)} MiB reserved by containers ({fmtNum(Math.round((reserved / Math.max(1, budget)) * 1000) / 10)} %)</p>
              </>
            )}
          </Section>
          <Section title="Queues">
            {queues.length === 0 ? <p class="muted">No function has been called yet.</p> : (
              <div class="table-wrap">
                <table>
                  <thead><tr><th scope="col">App</th><th scope="col">Function</th><th scope="col">Calls waiting</th></tr></thead>
                  <tbody>
                    {queues.map((q) => (
                      <tr key={q.labels.fn_id}>
                        <td>{q.labels.app_name}</td>
                        <th scope="row"><a href={`#/fns/${q.labels.fn_id}`}>{q.labels.fn_name}</a></th>
                        <td>{q.value}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
        </>
      )}
    </>
  );
}
