import { useState } from 'preact/hooks';
import type { LogLineView, RerunSelectionView, RerunView, RunDetail } from '../views';
import { path, post } from './api';
import { duration, errorLine, instant } from './format';
import { useAction, useLive } from './hooks';
import { OutcomeLine, Problem, Status } from './status';

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
        <dd>{r.runNumber}</dd>
        <dt>Trigger</dt>
        <dd>{r.trigger ?? ''}</dd>
        {Object.keys(r.params).length > 0 && (
          <>
            <dt>Parameters</dt>
            <dd data-params>
              {Object.entries(r.params)
                .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                .join(' ')}
            </dd>
          </>
        )}
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
      {Object.keys(r.reused).length > 0 && (
        <p class="muted" data-reused>
          Reused the results of {Object.entries(r.reused).map(([task, from]) => `${task} (from ${from})`).join(', ')}
        </p>
      )}
      {r.status !== 'RUNNING' && <RerunPanel run={r} />}
      <h2>Timeline</h2>
      <Gantt run={r} />
      <h2>Logs</h2>
      <Logs run={r} />
      {r.results.length > 0 && (
        <>
          <h2>Task results</h2>
          <table class="task-results">
            <tbody>
              {r.results.map((result) => (
                <tr key={result.task} data-result={result.task}>
                  <th>{result.task}</th>
                  <td>
                    <pre>{JSON.stringify(result.value, null, 2)}</pre>
                  </td>
                  <td class="muted">{r.reused[result.task] ? `reused from ${r.reused[result.task]}` : instant(result.recordedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {r.output !== undefined && (
        <>
          <h2>Run output</h2>
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
  if (run.attempts.length === 0) {
    // A deployed stage's attempts are in the execution's history, which its console shows.
    return <p class="muted">{run.consoleUrl ? 'Each task attempt is in the Step Functions console (link above).' : 'No task ran.'}</p>;
  }
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

/**
 * A new run of the run's partition that executes only some tasks and reuses the others'
 * recorded results, as `sluice rerun` (from failure, `--from-task`, `--tasks`); opens it.
 */
function RerunPanel({ run }: { run: RunDetail }) {
  const { busy, outcome, act } = useAction();
  const [fromTask, setFromTask] = useState(run.tasks[0] ?? '');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const rerun = (selection: RerunSelectionView) =>
    act(async () => {
      const result = await post<RerunView>(path('api', 'pipelines', run.pipeline, 'runs', run.runId, 'rerun'), { selection });
      const { launch, plan } = result;
      if (launch.kind !== 'started') return `Not started: ${launch.reason}`;
      location.hash = `#/pipelines/${encodeURIComponent(run.pipeline)}/runs/${encodeURIComponent(launch.runId)}`;
      return `Started run ${launch.runId}: executes ${plan.rerun.join(', ')}`;
    });
  const toggle = (task: string) => {
    const next = new Set(chosen);
    if (next.has(task)) next.delete(task);
    else next.add(task);
    setChosen(next);
  };
  return (
    <div class="rerun actions inline" data-rerun>
      <strong>Re-run</strong>
      {run.status !== 'SUCCEEDED' && (
        <button type="button" disabled={busy} onClick={() => rerun({ kind: 'failed' })} data-action="rerun-failed" title="Executes the tasks that did not succeed; reuses the others' results">
          from failure
        </button>
      )}
      <span class="group">
        <select value={fromTask} onChange={(e) => setFromTask((e.currentTarget as HTMLSelectElement).value)} data-field="from-task">
          {run.tasks.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <button type="button" disabled={busy || !fromTask} onClick={() => rerun({ kind: 'from-task', task: fromTask })} data-action="rerun-from-task">
          from this task on
        </button>
      </span>
      <span class="group">
        {run.tasks.map((t) => (
          <label key={t}>
            <input type="checkbox" checked={chosen.has(t)} onChange={() => toggle(t)} data-task-choice={t} /> {t}
          </label>
        ))}
        <button type="button" disabled={busy || chosen.size === 0} onClick={() => rerun({ kind: 'tasks', tasks: [...chosen] })} data-action="rerun-tasks">
          these tasks
        </button>
      </span>
      <OutcomeLine outcome={outcome} />
    </div>
  );
}

/** What each task attempt printed (what `sluice logs` shows), one block per attempt. */
function Logs({ run }: { run: RunDetail }) {
  if (run.logs.length === 0) return <p class="muted">{run.status === 'RUNNING' ? 'No task output yet.' : 'The tasks printed nothing.'}</p>;
  const byAttempt = new Map<string, LogLineView[]>();
  for (const line of run.logs) {
    const key = `${line.task} #${line.attempt}`;
    byAttempt.set(key, [...(byAttempt.get(key) ?? []), line]);
  }
  return (
    <div class="logs">
      {[...byAttempt].map(([key, lines]) => (
        <details key={key} open data-logs={key}>
          <summary>
            {key} <span class="muted">({lines.length} line{lines.length === 1 ? '' : 's'})</span>
          </summary>
          <pre>
            {lines.map((l, i) => (
              <div key={i} class={l.stream === 'stderr' ? 'stderr' : undefined}>
                <span class="muted">{l.time.slice(11, 23)}</span> {l.message}
              </div>
            ))}
          </pre>
        </details>
      ))}
    </div>
  );
}
