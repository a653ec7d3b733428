import type { Outcome } from './hooks';

/** A status as a coloured badge that also says it in words. */
export function Status({ status }: { status: string }) {
  return (
    <span class={`badge s-${status.toLowerCase()}`} data-status={status}>
      {status}
    </span>
  );
}

/** Page-level error or loading line. */
export function Problem({ error, loading }: { error?: string; loading?: boolean }) {
  if (error) return <p class="error" role="alert">{error}</p>;
  return loading ? <p class="muted">Loading…</p> : null;
}

/** An action's outcome next to its button. */
export function OutcomeLine({ outcome }: { outcome?: Outcome }) {
  if (!outcome) return null;
  return (
    <p class={outcome.bad ? 'error' : 'ok'} role="status">
      {outcome.text}
    </p>
  );
}
