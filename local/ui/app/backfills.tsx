import type { BackfillView } from '../views';
import { path, post } from './api';
import { duration, instant } from './format';
import { useAction, useLive } from './hooks';
import { OutcomeLine, Problem, Status } from './status';

const running = (b: BackfillView) => b.status === 'RUNNING' || b.status === 'PLANNING';

/** Every backfill of every pipeline, newest first, with live progress and cancel. */
export function BackfillsPage() {
  const list = useLive<BackfillView[]>('/api/backfills', (e) => e.what === 'backfill' || e.what === 'run', (data) => data.some(running));
  if (!list.data) return <Problem error={list.error} loading={list.loading} />;
  return (
    <section class="backfills">
      <h1>Backfills</h1>
      {list.data.length === 0 ? (
        <p class="muted">No backfills yet: select a range in a pipeline's partition grid to start one.</p>
      ) : (
        <table class="backfill-list">
          <thead>
            <tr>
              <th>Pipeline</th>
              <th>Backfill</th>
              <th>Range</th>
              <th>Only</th>
              <th>Concurrency</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Progress</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((b) => (
              <tr key={b.backfillId} data-backfill={b.backfillId}>
                <td>
                  <a href={`#/pipelines/${encodeURIComponent(b.pipeline)}`}>{b.pipeline}</a>
                </td>
                <td>{b.backfillId}</td>
                <td>
                  {b.from ?? 'first'}..{b.to ?? 'last'}
                </td>
                <td>{b.only}</td>
                <td>{b.concurrency}</td>
                <td>{instant(b.createdAt)}</td>
                <td>{duration(elapsed(b))}</td>
                <td>
                  <BackfillProgress backfill={b} onChange={list.reload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A pipeline's backfills still running, each with its progress and cancel. */
export function RunningBackfills({ pipeline }: { pipeline: string }) {
  const list = useLive<BackfillView[]>(path('api', 'pipelines', pipeline, 'backfills'), (e) => e.pipeline === pipeline, (data) => data.some(running));
  const shown = (list.data ?? []).filter(running);
  if (shown.length === 0) return null;
  return (
    <>
      <h2>Backfills running</h2>
      <ul class="running-backfills">
        {shown.map((b) => (
          <li key={b.backfillId} data-backfill={b.backfillId}>
            {b.backfillId} <span class="muted">({b.from ?? 'first'}..{b.to ?? 'last'}, only {b.only})</span>
            <BackfillProgress backfill={b} onChange={list.reload} />
          </li>
        ))}
      </ul>
    </>
  );
}

/** Follows one backfill until it ends (polling while it runs): what the backfill dialog shows. */
export function FollowBackfill({ pipeline, backfillId }: { pipeline: string; backfillId: string }) {
  const backfill = useLive<BackfillView>(path('api', 'pipelines', pipeline, 'backfills', backfillId), (e) => e.pipeline === pipeline, running);
  if (!backfill.data) return <Problem error={backfill.error} loading={backfill.loading} />;
  return <BackfillProgress backfill={backfill.data} onChange={backfill.reload} />;
}

/** A backfill's status, a progress bar with its counts, and while it runs, its cancel buttons. */
export function BackfillProgress({ backfill: b, onChange }: { backfill: BackfillView; onChange(): void }) {
  const cancel = useAction();
  const done = b.succeeded + b.failed + b.skipped + b.cancelled;
  const stop = (mode: 'finish' | 'stop') =>
    cancel.act(async () => {
      await post<BackfillView>(path('api', 'pipelines', b.pipeline, 'backfills', b.backfillId, 'cancel'), { mode });
      onChange();
      return mode === 'finish' ? 'Cancelled: no new run starts; runs in flight finish' : 'Cancelled: runs in flight were stopped';
    });
  return (
    <div class="backfill-progress" data-backfill-progress={b.backfillId} data-status={b.status} data-done={done} data-partitions={b.partitions}>
      <Status status={b.status} />
      {b.cancelRequested && b.status === 'RUNNING' && <span class="muted"> cancelling</span>}{' '}
      <progress max={Math.max(1, b.partitions)} value={done} />{' '}
      <span class="counts">
        {done}/{b.partitions} partitions: {b.succeeded} succeeded, {b.failed} failed, {b.skipped} skipped
        {b.cancelled > 0 && `, ${b.cancelled} cancelled`}
      </span>
      {b.error && <p class="error-text">{b.error}</p>}
      {b.reason && !running(b) && <p class="muted">{b.reason}</p>}
      {b.status === 'RUNNING' && !b.cancelRequested && (
        <div class="actions inline">
          <button type="button" disabled={cancel.busy} onClick={() => stop('finish')} data-action="cancel-backfill" title="No new run starts; the runs in flight finish">
            Cancel
          </button>
          <button type="button" disabled={cancel.busy} onClick={() => stop('stop')} data-action="stop-backfill" title="Cancel and stop the runs in flight (their partitions end FAILED)">
            Cancel and stop runs
          </button>
        </div>
      )}
      <OutcomeLine outcome={cancel.outcome} />
    </div>
  );
}

function elapsed(b: BackfillView): number | undefined {
  if (!b.createdAt) return undefined;
  const end = b.finishedAt ? Date.parse(b.finishedAt) : running(b) ? Date.now() : undefined;
  return end === undefined ? undefined : end - Date.parse(b.createdAt);
}
