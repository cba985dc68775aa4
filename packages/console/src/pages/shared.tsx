import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/** A poll's failure, shown where its data would be (the data stays: a blip does not blank the page). */
export function Problem({ error }: { error: string | undefined }) {
  return error ? <p class="error" role="alert">{error}</p> : null;
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" aria-live="polite">Loading {what}…</p>;
}

/**
 * A button for an action that changes something: it asks first (the browser's own dialog, which the keyboard and
 * screen readers know), then shows the action's answer or error beside it.
 */
export function ActionButton({ label, confirm, run, onDone, disabled = false, title }: {
  label: string;
  disabled?: boolean;
  title?: string | undefined;
  confirm: string;
  run: () => Promise<string | undefined>;
  onDone?: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  return (
    <span class="action">
      <button type="button" disabled={busy || disabled} title={title} onClick={async () => {
        if (!window.confirm(confirm)) return;
        setBusy(true);
        try {
          const text = await run();
          setResult(text ? { ok: true, text } : undefined);
        } catch (err) {
          setResult({ ok: false, text: err instanceof Error ? err.message : String(err) });
        } finally {
          setBusy(false);
          onDone?.();
        }
      }}>{label}</button>
      {result && <span class={result.ok ? 'ok' : 'error'} role="status">{result.text}</span>}
    </span>
  );
}

export function Copy({ text }: { text: string }) {
  const [done, setDone] = useState(false);
  return (
    <button type="button" class="small" aria-label={`Copy ${text}`} onClick={async () => {
      // The clipboard needs a secure context (https or localhost); elsewhere the text is there to select.
      await navigator.clipboard?.writeText(text).then(() => setDone(true), () => setDone(false));
    }}>{done ? 'Copied' : 'Copy'}</button>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      <div class="card-head"><h2>{title}</h2>{actions}</div>
      {children}
    </section>
  );
}

export function ago(iso: string | undefined | null): string {
  if (!iso) return '—';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(0, s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
