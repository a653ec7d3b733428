import type { RunDetail } from '../views';
import { path } from './api';
import { duration, errorLine, instant } from './format';
import { useLive } from './hooks';
import { Problem, Status } from './status';

/** A run: its outcome, a timeline (Gantt) of every task attempt with retries, errors and results. */
export function RunPage({ pipeline, runId }: { pipeline: string; runId: string }) {
  const run = useLive<RunDetail>(path('api', 'pipelines', pipeline, 'runs', runId), (e) => e.pipeline === pipeline);
  if (!run.data) return <Problem error={run.error} loading={run.loading} />;
  const r = run.data;
  return (
    <section class="run" data-run={r.runId}>
      <p>
        <a href={`#/pipelines/${encodeURIComponent(pipeline)}`}>← {pipeline}</a>
      </p>
      <h1>
        Run {r.runId} <Status status={r.status} />
      </h1>
      <dl class="facts">
        <dt>Partition</dt>
        <dd>{r.partition}</dd>
        <dt>Run of this partition</dt>
        <dd>{r.attempt}</dd>
        <dt>Trigger</dt>
        <dd>{r.trigger ?? ''}</dd>
        <dt>Started</dt>
        <dd>{instant(r.startDate)}</dd>
        <dt>Duration</dt>
        <dd>{r.stopDate ? duration(r.durationMs) : 'running'}</dd>
        {r.consoleUrl && (
          <>
            <dt>Step Functions</dt>
            <dd>
              <a href={r.consoleUrl} target="_blank" rel="noreferrer">
                open the execution in the AWS console
              </a>
            </dd>
          </>
        )}
      </dl>
      {r.error && (
        <p class="error" data-run-error>
          {errorLine(r.error, r.errorMessage)}
        </p>
      )}
      <h2>Timeline</h2>
      <Gantt run={r} />
      {r.output !== undefined && (
        <>
          <h2>Results</h2>
          <pre class="results">{JSON.stringify(r.output, null, 2)}</pre>
        </>
      )}
      {r.cause && r.cause !== r.errorMessage && (
        <>
          <h2>Cause</h2>
          <pre class="results">{r.cause}</pre>
        </>
      )}
    </section>
  );
}

/** One bar per task attempt, placed on the run's time axis; retries of a task follow its row. */
function Gantt({ run }: { run: RunDetail }) {
  const start = Date.parse(run.startDate);
  const end = run.stopDate ? Date.parse(run.stopDate) : Date.now();
  const span = Math.max(1, end - start);
  if (run.attempts.length === 0) return <p class="muted">No task ran.</p>;
  return (
    <div class="gantt">
      <div class="gantt-axis">
        <span>0 s</span>
        <span>{duration(span)}</span>
      </div>
      {run.attempts.map((a) => {
        const from = Date.parse(a.startDate) - start;
        const to = (a.endDate ? Date.parse(a.endDate) : end) - start;
        const label = `${a.mapIndex === undefined ? a.task : `${a.task}[${a.mapIndex}]`} · attempt ${a.attempt}`;
        return (
          <div class="gantt-row" key={`${a.task}-${a.mapIndex ?? ''}-${a.attempt}`} data-task={a.task} data-attempt={a.attempt} data-status={a.status}>
            <span class="gantt-label">{label}</span>
            <span class="gantt-track">
              <span
                class={`gantt-bar s-${a.status.toLowerCase()}`}
                style={{ left: `${(from / span) * 100}%`, width: `${Math.max(0.5, ((to - from) / span) * 100)}%` }}
                title={`${label}: ${a.status}, ${duration(a.durationMs)}`}
              />
            </span>
            <span class="gantt-info">
              <Status status={a.status} /> {duration(a.durationMs)}
              {a.error && <span class="error-text"> {errorLine(a.error, a.errorMessage)}</span>}
            </span>
          </div>
        );
      })}
    </div>
  );
}
