import type { OverviewView } from '../views';
import { errorLine, instant, relative } from './format';
import { useLive } from './hooks';
import { Problem, Status } from './status';

/** Every pipeline: schedule, triggers, last run, failures in 24 h; and the latest alerts. */
export function OverviewPage() {
  const { data, error, loading } = useLive<OverviewView>('/api/overview');
  if (!data) return <Problem error={error} loading={loading} />;
  return (
    <section class="overview">
      <h1>
        Pipelines <span class="muted">stage {data.stage}</span>
      </h1>
      <Problem error={error} />
      <table class="pipelines">
        <thead>
          <tr>
            <th>Pipeline</th>
            <th>Partitions</th>
            <th>Schedule (next tick)</th>
            <th>Triggers</th>
            <th>Last run</th>
            <th>Failures 24 h</th>
            <th>Running</th>
            <th>Backfills running</th>
          </tr>
        </thead>
        <tbody>
          {data.pipelines.map((p) => (
            <tr key={p.name} data-pipeline={p.name}>
              <td>
                <a href={`#/pipelines/${encodeURIComponent(p.name)}`}>{p.name}</a>
              </td>
              <td>{p.partitions}</td>
              <td>
                {p.schedule ? (
                  <>
                    <code>{p.schedule.cron}</code> {p.schedule.timezone}
                    <div class="muted" title={instant(p.schedule.next)} data-schedule-state={p.schedule.state}>
                      {p.schedule.state === 'PAUSED' ? 'PAUSED' : `next ${p.schedule.next ? relative(p.schedule.next) : 'never'}`}
                    </div>
                  </>
                ) : (
                  <span class="muted">none</span>
                )}
              </td>
              <td>{p.triggers.length ? p.triggers.map((t) => <code key={t}>{t}</code>) : <span class="muted">none</span>}</td>
              <td class="last-run">
                {p.lastRun ? (
                  <>
                    <Status status={p.lastRun.status} />{' '}
                    <a href={`#/pipelines/${encodeURIComponent(p.name)}/runs/${encodeURIComponent(p.lastRun.runId)}`}>{p.lastRun.partition}</a>
                    <div class="muted" title={instant(p.lastRun.startDate)}>
                      {relative(p.lastRun.startDate)}
                      {p.lastRun.error ? ` · ${errorLine(p.lastRun.error, p.lastRun.errorMessage)}` : ''}
                    </div>
                  </>
                ) : (
                  <span class="muted">never run</span>
                )}
              </td>
              <td class={p.failures24h > 0 ? 'failures bad' : 'failures'}>{p.failures24h}</td>
              <td>{p.running}</td>
              <td>{p.backfillsRunning > 0 ? <a href="#/backfills">{p.backfillsRunning}</a> : 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Recent alerts</h2>
      {data.alerts.length === 0 ? (
        <p class="muted">No alerts.</p>
      ) : (
        <ul class="alerts">
          {data.alerts.map((a, i) => (
            <li key={i}>
              <span class="muted">{instant(a.time)}</span> <strong>{a.subject ?? ''}</strong>
              <pre>{a.message}</pre>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
