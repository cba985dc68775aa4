import type { AppJson, FnJson, TriggerJson } from '@fnts/api';
import { listAll } from '../api.js';
import { usePoll } from '../hooks.js';
import { Copy, Loading, Problem, Section } from './shared.js';

export interface AppTriggers {
  app: AppJson;
  fns: Map<string, FnJson>;
  triggers: TriggerJson[];
}

/** Every app with its functions (for names) and triggers. */
export async function loadTriggers(): Promise<AppTriggers[]> {
  const apps = await listAll<AppJson>('/v2/apps');
  return Promise.all(apps.map(async (app) => {
    const q = `app_id=${encodeURIComponent(app.id)}`;
    const [fns, triggers] = await Promise.all([listAll<FnJson>(`/v2/fns?${q}`), listAll<TriggerJson>(`/v2/triggers?${q}`)]);
    return { app, fns: new Map(fns.map((f) => [f.id, f])), triggers };
  }));
}

function Options({ options }: { options: Record<string, unknown> | undefined }) {
  const entries = Object.entries(options ?? {});
  if (entries.length === 0) return <span class="muted">defaults</span>;
  return (
    <dl class="options">
      {entries.map(([k, v]) => <div key={k}><dt>{k}</dt><dd class="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd></div>)}
    </dl>
  );
}

/** HTTP triggers with the URL to call, stream triggers with their options. */
export function TriggersPage() {
  const { data, error } = usePoll(loadTriggers, 10_000);
  return (
    <>
      <h1>Triggers</h1>
      <Problem error={error} />
      {!data && !error && <Loading what="triggers" />}
      {data && data.every((a) => a.triggers.length === 0) && <p class="muted">No triggers yet.</p>}
      {data?.filter((a) => a.triggers.length > 0).map(({ app, fns, triggers }) => (
        <Section key={app.id} title={`App ${app.name}`}>
          <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">Trigger</th><th scope="col">Type</th><th scope="col">Function</th><th scope="col">Source</th><th scope="col">URL or options</th></tr></thead>
              <tbody>
                {triggers.map((t) => {
                  const url = t.annotations?.['fnproject.io/trigger/httpEndpoint'];
                  return (
                    <tr key={t.id}>
                      <th scope="row">{t.name}</th>
                      <td>{t.type}</td>
                      <td><a href={`#/fns/${t.fn_id}`}>{fns.get(t.fn_id)?.name ?? t.fn_id}</a></td>
                      <td class="mono wrap">{t.source}</td>
                      <td>{t.type === 'http' && typeof url === 'string'
                        ? <span class="url"><span class="mono wrap">{url}</span> <Copy text={url} /></span>
                        : <Options options={t.options as Record<string, unknown> | undefined} />}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </Section>
      ))}
    </>
  );
}
