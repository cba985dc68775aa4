import type { RedriveResult, Stream, TriggerJson, TriggerStatus } from '@fnts/api';
import { useRef, useState } from 'preact/hooks';
import { ApiError, getJson, listAll, postJson } from '../api.js';
import { fmtNum, TimeChart, type Series } from '../charts.js';
import { usePoll } from '../hooks.js';
import { ActionButton, ago, Loading, Problem, Section } from './shared.js';
import { loadTriggers } from './triggers.js';

/** Lag samples kept per partition: five minutes at one poll every two seconds. */
const HISTORY = 150;
const POLL_MS = 2000;

interface TriggerView {
  trigger: TriggerJson;
  appName: string;
  fnName: string;
  status: TriggerStatus | undefined;
  error: string | undefined;
}

interface StreamsData {
  /** Undefined when the server has no embedded streams (the PostgreSQL store): Kafka triggers are still shown. */
  streams: Stream[] | undefined;
  streamsNote: string | undefined;
  triggers: TriggerView[];
}

async function loadStreams(): Promise<StreamsData> {
  const [streams, apps] = await Promise.all([
    listAll<Stream>('/v2/streams').then(
      (list) => Promise.all(list.map((s) => getJson<Stream>(`/v2/streams/${encodeURIComponent(s.name)}`))),
      (err: unknown) => err instanceof ApiError && err.status !== 401 && err.status !== 403 ? err : Promise.reject(err),
    ),
    loadTriggers(),
  ]);
  const triggers = await Promise.all(apps.flatMap(({ app, fns, triggers: ts }) => ts.filter((t) => t.type === 'stream').map(async (t) => {
    const view = { trigger: t, appName: app.name, fnName: fns.get(t.fn_id)?.name ?? t.fn_id };
    try {
      return { ...view, status: await getJson<TriggerStatus>(`/v2/triggers/${encodeURIComponent(t.id)}/status`), error: undefined };
    } catch (err) {
      return { ...view, status: undefined, error: err instanceof Error ? err.message : String(err) };
    }
  })));
  return streams instanceof ApiError
    ? { streams: undefined, streamsNote: streams.message, triggers }
    : { streams, streamsNote: undefined, triggers };
}

interface TriggerHistory {
  records: Series[];
  seconds: Series[];
}
type History = Map<string, TriggerHistory>;

/** Appends this poll's lag of every partition to the page's history (kept in the page only: /metrics has no past). */
function record(history: History, data: StreamsData, now: number): void {
  for (const { trigger, status } of data.triggers) {
    if (!status) continue;
    const h = history.get(trigger.id) ?? { records: [], seconds: [] };
    for (const p of status.partitions) {
      const name = `p${p.partition}`;
      for (const [list, v] of [[h.records, p.lag_records], [h.seconds, p.lag_seconds]] as const) {
        let s = list.find((x) => x.name === name);
        if (!s) {
          s = { name, points: [] };
          list.push(s);
        }
        (s.points as { t: number; v: number }[]).push({ t: now, v });
        if (s.points.length > HISTORY) (s.points as unknown[]).shift();
      }
    }
    history.set(trigger.id, h);
  }
}

/** Embedded streams with their partitions, and every stream trigger with its lag over time and its controls. */
export function StreamsPage() {
  const history = useRef<History>(new Map());
  const { data, error, refresh } = usePoll(async () => {
    const d = await loadStreams();
    record(history.current, d, Date.now());
    return d;
  }, POLL_MS);
  return (
    <>
      <h1>Streams</h1>
      <Problem error={error} />
      {!data && !error && <Loading what="streams" />}
      {data && (
        <Section title="Embedded streams">
          {data.streamsNote && <p class="muted">{data.streamsNote}</p>}
          {data.streams?.length === 0 && <p class="muted">No streams yet.</p>}
          {data.streams && data.streams.length > 0 && (
            <div class="table-wrap">
              <table>
                <thead><tr><th scope="col">Stream</th><th scope="col">Partitions</th><th scope="col">End offsets</th><th scope="col">Retention</th></tr></thead>
                <tbody>
                  {data.streams.map((s) => (
                    <tr key={s.id}>
                      <th scope="row">{s.name}</th>
                      <td>{s.partitions}</td>
                      <td class="mono">{s.offsets?.map((o) => `p${o.partition}: ${o.start}…${o.end}`).join(', ')}</td>
                      <td>{fmtNum(Math.round(s.retention_ms / 3_600_000))} h</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Section>
      )}
      {data?.triggers.map((v) => <TriggerCard key={v.trigger.id} view={v} history={history.current.get(v.trigger.id)} onChange={refresh} />)}
    </>
  );
}

function TriggerCard({ view, history, onChange }: { view: TriggerView; history: TriggerHistory | undefined; onChange: () => void }) {
  const { trigger: t, status } = view;
  const [seekTo, setSeekTo] = useState<'earliest' | 'latest'>('latest');
  const id = encodeURIComponent(t.id);
  const paused = status?.paused ?? false;
  return (
    <Section title={`Trigger ${t.name}`} actions={
      <div class="buttons" data-testid={`trigger-${t.name}`}>
        <span class={paused ? 'badge warn' : 'badge'} data-testid="trigger-state">{paused ? 'paused' : 'running'}</span>
        {paused
          ? <ActionButton label="Resume" confirm={`Resume trigger ${t.name}?`} onDone={onChange}
            run={async () => (await postJson<TriggerStatus>(`/v2/triggers/${id}/resume`), 'resumed')} />
          : <ActionButton label="Pause" confirm={`Pause trigger ${t.name}? No batch is started until it is resumed.`} onDone={onChange}
            run={async () => (await postJson<TriggerStatus>(`/v2/triggers/${id}/pause`), 'paused')} />}
        <span class="seek">
          <label>Seek to <select value={seekTo} onChange={(e) => setSeekTo(e.currentTarget.value as 'earliest' | 'latest')}>
            <option value="latest">latest</option><option value="earliest">earliest</option>
          </select></label>
          <ActionButton label="Seek" disabled={!paused} title={paused ? undefined : 'pause the trigger before seeking'} confirm={`Move every partition of ${t.name} to the ${seekTo} offset? Records in between are skipped or read again.`}
            onDone={onChange} run={async () => (await postJson<TriggerStatus>(`/v2/triggers/${id}/seek`, { position: seekTo }), `moved to ${seekTo}`)} />
        </span>
        {status?.dead_letter_stream && (
          <ActionButton label="Redrive" confirm={`Send the dead letters of ${t.name} (stream ${status.dead_letter_stream}) back to the function?`}
            onDone={onChange} run={async () => {
              const r = await postJson<RedriveResult>(`/v2/triggers/${id}/redrive`);
              return `${r.redriven} redriven, ${r.remaining} left${r.error ? `: ${r.error}` : ''}`;
            }} />
        )}
      </div>
    }>
      <p class="muted">{view.appName} · function <a href={`#/fns/${t.fn_id}`}>{view.fnName}</a> · source <span class="mono">{t.source}</span>
        {status && ` (${status.source.type})`}</p>
      <Problem error={view.error} />
      {history && (
        <div class="charts wide">
          <TimeChart label="Lag in records" unit="records" series={history.records} />
          <TimeChart label="Lag in seconds" unit="s" series={history.seconds} />
        </div>
      )}
      {status && (
        <div class="table-wrap">
          <table data-testid="partitions">
            <thead><tr>
              <th scope="col">Partition</th><th scope="col">State</th><th scope="col">Next offset</th><th scope="col">End</th>
              <th scope="col">Lag</th><th scope="col">Lag (s)</th><th scope="col">Last success</th><th scope="col">Dead-lettered</th><th scope="col">Last error</th>
            </tr></thead>
            <tbody>
              {status.partitions.map((p) => (
                <tr key={p.partition}>
                  <th scope="row">{p.partition}</th>
                  <td>{p.state.kind}{p.in_flight && <span class="muted"> {p.in_flight.first}…{p.in_flight.last}</span>}</td>
                  <td>{p.committed}</td>
                  <td>{p.end}</td>
                  <td data-testid={`lag-${p.partition}`}>{p.lag_records}</td>
                  <td>{fmtNum(p.lag_seconds)}</td>
                  <td>{ago(p.last_success_at)}</td>
                  <td>{p.dead_lettered}</td>
                  <td class="wrap">{p.last_error ?? p.state.lastError ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
