import type { AppJson, CallRecord, FnJson, FnStats, LogLine } from '@fnts/api';
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, followNdjson, getJson, request } from '../api.js';
import { fmtMs, fmtNum, Spark } from '../charts.js';
import { usePoll } from '../hooks.js';
import { fnVersion } from './apps.js';
import { ago, Loading, Problem, Section } from './shared.js';

const MAX_LIVE_LINES = 500;

function enc(id: string): string {
  return encodeURIComponent(id);
}

/** One function: its last hour, an invoke form, its recent calls with their output, and its output live. */
export function FnPage({ fnId }: { fnId: string }) {
  const fn = usePoll(async () => {
    const f = await getJson<FnJson>(`/v2/fns/${enc(fnId)}`);
    const app = await getJson<AppJson>(`/v2/apps/${enc(f.app_id)}`);
    return { fn: f, app };
  }, 30_000, [fnId]);
  const stats = usePoll(() => getJson<FnStats>(`/v2/fns/${enc(fnId)}/stats`), 5000, [fnId]);
  const calls = usePoll(() => getJson<{ items: CallRecord[] }>(`/v2/fns/${enc(fnId)}/calls?per_page=20`), 3000, [fnId]);
  const f = fn.data?.fn;
  const s = stats.data;
  return (
    <>
      <h1>{f ? <>Function {f.name} <span class="muted">in {fn.data?.app.name}</span></> : 'Function'}</h1>
      <Problem error={fn.error} />
      {f && (
        <dl class="facts">
          <div><dt>Image</dt><dd class="mono wrap">{f.image}</dd></div>
          <div><dt>Version</dt><dd>{fnVersion(f)}</dd></div>
          <div><dt>Memory</dt><dd>{f.memory} MiB</dd></div>
          <div><dt>Timeout</dt><dd>{f.timeout} s</dd></div>
          <div><dt>Idle timeout</dt><dd>{f.idle_timeout} s</dd></div>
          <div><dt>Id</dt><dd class="mono">{f.id}</dd></div>
        </dl>
      )}
      <Section title="Last hour">
        <Problem error={stats.error} />
        {s && (
          <div class="charts">
            <Spark kind="bars" label="calls" values={s.buckets.map((b) => b.calls)} />
            <Spark kind="bars" tone="bad" label="errors" values={s.buckets.map((b) => b.errors)} />
            <Spark label="p50" values={s.buckets.map((b) => b.p50_ms)} format={fmtMs} />
            <Spark label="p99" values={s.buckets.map((b) => b.p99_ms)} format={fmtMs} />
            <p class="muted">
              {fmtNum(s.calls)} calls, {fmtNum(s.errors)} errors, p50 {s.p50_ms === null ? '—' : fmtMs(s.p50_ms)},
              p99 {s.p99_ms === null ? '—' : fmtMs(s.p99_ms)}, {s.running} running
              {!s.complete && ' (older calls are no longer kept: the chart starts later)'}
            </p>
          </div>
        )}
      </Section>
      <InvokeForm fnId={fnId} onCalled={calls.refresh} />
      <Section title="Recent calls">
        <Problem error={calls.error} />
        {!calls.data && !calls.error && <Loading what="calls" />}
        {calls.data && <CallTable fnId={fnId} calls={calls.data.items} />}
      </Section>
      <LiveOutput fnId={fnId} />
    </>
  );
}

function InvokeForm({ fnId, onCalled }: { fnId: string; onCalled: () => void }) {
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<{ status: number; callId: string | null; text: string } | undefined>(undefined);
  return (
    <Section title="Invoke">
      <form class="invoke" onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          const res = await request(`/invoke/${enc(fnId)}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
          setAnswer({ status: res.status, callId: res.headers.get('fn-call-id'), text: await res.text() });
        } catch (err) {
          setAnswer({ status: err instanceof ApiError ? err.status : 0, callId: null, text: err instanceof Error ? err.message : String(err) });
        } finally {
          setBusy(false);
          onCalled();
        }
      }}>
        <label for="invoke-body">Body</label>
        <textarea id="invoke-body" rows={3} value={body} onInput={(e) => setBody(e.currentTarget.value)} placeholder='{"name": "world"}' />
        <button type="submit" disabled={busy}>{busy ? 'Calling…' : 'Invoke'}</button>
      </form>
      {answer && (
        <div class="answer" role="status">
          <p><span class={answer.status >= 200 && answer.status < 300 ? 'ok' : 'error'}>{answer.status || 'failed'}</span>
            {answer.callId && <> call <span class="mono">{answer.callId}</span></>}</p>
          <pre class="output" data-testid="invoke-answer">{answer.text}</pre>
        </div>
      )}
    </Section>
  );
}

function CallTable({ fnId, calls }: { fnId: string; calls: CallRecord[] }) {
  const [open, setOpen] = useState<string | undefined>(undefined);
  if (calls.length === 0) return <p class="muted">No calls yet.</p>;
  return (
    <div class="table-wrap">
      <table class="calls">
        <thead><tr>
          <th scope="col">Status</th><th scope="col">When</th><th scope="col">Duration</th><th scope="col">Trigger or batch</th>
          <th scope="col">Call</th><th scope="col">Output</th>
        </tr></thead>
        <tbody>
          {calls.map((c) => (
            <Fragment key={c.id}>
              <tr data-call={c.id}>
                <td><span class={c.status === 'success' ? 'ok' : c.status === 'running' || c.status === 'queued' ? 'muted' : 'error'}>{c.status}</span>
                  {c.error && <span class="muted"> {c.error}</span>}</td>
                <td class="nowrap">{ago(c.created_at)}</td>
                <td class="nowrap">{c.duration_ms === undefined ? '—' : fmtMs(c.duration_ms)}</td>
                <td class="mono wrap">{c.batch ?? c.trigger_id ?? (c.type === 'detached' ? 'detached' : 'invoke')}</td>
                <td class="mono">{c.id}</td>
                <td><button type="button" class="small" aria-expanded={open === c.id}
                  onClick={() => setOpen(open === c.id ? undefined : c.id)}>{open === c.id ? 'Hide' : 'Show'}</button></td>
              </tr>
              {open === c.id && <tr class="log-row"><td colSpan={6}><CallOutput fnId={fnId} callId={c.id} /></td></tr>}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CallOutput({ fnId, callId }: { fnId: string; callId: string }) {
  const [text, setText] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    request(`/v2/fns/${enc(fnId)}/calls/${enc(callId)}/log`).then((r) => r.text()).then(
      (t) => live && setText(t === '' ? '(the call printed nothing)' : t),
      (err: Error) => live && setText(`(${err.message})`),
    );
    return () => {
      live = false;
    };
  }, [fnId, callId]);
  return <pre class="output" data-testid="call-output">{text ?? 'Loading…'}</pre>;
}

/** The function's output as it is printed, from the followed log (one long request, not a poll). */
function LiveOutput({ fnId }: { fnId: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const abort = new AbortController();
    const pending: LogLine[] = [];
    let frame = 0;
    // Lines arrive in bursts: render once a frame, not once a line.
    const flush = () => {
      frame = 0;
      setLines((old) => [...old, ...pending.splice(0)].slice(-MAX_LIVE_LINES));
    };
    followNdjson<LogLine>(`/v2/fns/${enc(fnId)}/logs?follow=true&tail=50`, (l) => {
      pending.push(l);
      if (!frame) frame = requestAnimationFrame(flush);
    }, abort.signal).catch((err: Error) => setError(err.message));
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
    };
  }, [fnId]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <Section title="Live output">
      <Problem error={error} />
      <pre class="output live" ref={box} tabIndex={0} aria-label="the function's output, newest last" aria-live="off" data-testid="live-output">
        {lines.length === 0 ? <span class="muted">Nothing printed yet.</span> : lines.map((l, i) => (
          <div key={i}><span class="muted">{l.time.slice(11, 19)} {l.call_id ? l.call_id.slice(-6) : '      '} </span>{l.line}</div>
        ))}
      </pre>
    </Section>
  );
}
