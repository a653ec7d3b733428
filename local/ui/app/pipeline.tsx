import { useEffect, useState } from 'preact/hooks';
import type { BackfillOnlyView, BackfillView, LaunchView, PartitionDetail, PartitionGridView, PipelineSummary, PipelineView } from '../views';
import { path, post } from './api';
import { FollowBackfill, RunningBackfills } from './backfills';
import { duration, errorLine, instant } from './format';
import { TaskGraph } from './graph';
import { PartitionGrid, type Selection } from './grid';
import { useAction, useLive } from './hooks';
import { OutcomeLine, Problem, Status } from './status';

/** A pipeline: its task graph, its partition grid with actions on a selection, its latest runs. */
export function PipelinePage({ name, from, to }: { name: string; from?: string; to?: string }) {
  const mine = (event: { pipeline?: string }) => event.pipeline === undefined || event.pipeline === name;
  const pipeline = useLive<PipelineView>(path('api', 'pipelines', name), mine);
  const range = new URLSearchParams({ ...(from && { from }), ...(to && { to }) }).toString();
  const grid = useLive<PartitionGridView>(`${path('api', 'pipelines', name, 'partitions')}${range ? `?${range}` : ''}`, mine);
  const [selection, setSelection] = useState<Selection | undefined>();
  useEffect(() => setSelection(undefined), [range]);
  if (!pipeline.data) return <Problem error={pipeline.error} loading={pipeline.loading} />;
  const p = pipeline.data;
  return (
    <section class="pipeline" data-pipeline={name}>
      <h1>{p.name}</h1>
      <p class="muted">
        {p.partitions}
        {p.schedule && (
          <>
            {' '}
            · schedule <code>{p.schedule.cron}</code> {p.schedule.timezone}, next {p.schedule.state === 'PAUSED' ? 'none while paused' : instant(p.schedule.next) || 'never'}
          </>
        )}
        {p.triggers.length > 0 && <> · triggers {p.triggers.join(', ')}</>}
      </p>
      {p.schedule && <ScheduleControl pipeline={p} onDone={pipeline.reload} />}
      <h2>Tasks</h2>
      <TaskGraph tasks={p.tasks} />
      <h2>Partitions</h2>
      <RangeForm name={name} from={from} to={to} />
      <Problem error={grid.error} loading={!grid.data && grid.loading} />
      {grid.data && (
        <div class="grid-and-actions">
          <PartitionGrid grid={grid.data} dimensions={p.dimensions} selection={selection} onSelect={setSelection} />
          {selection && <SelectionPanel key={`${selection.first}-${selection.last}`} pipeline={p} grid={grid.data} selection={selection} onDone={grid.reload} />}
        </div>
      )}
      <RunningBackfills pipeline={name} />
      <h2>Runs</h2>
      <RunsTable pipeline={p} />
    </section>
  );
}

/** Which partitions the grid shows: keys of the time dimension, every partition when empty. */
function RangeForm({ name, from, to }: { name: string; from?: string; to?: string }) {
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const query = new URLSearchParams();
    for (const field of ['from', 'to']) {
      const value = String(form.get(field) ?? '').trim();
      if (value) query.set(field, value);
    }
    location.hash = `#/pipelines/${encodeURIComponent(name)}${query.size ? `?${query}` : ''}`;
  };
  return (
    <form class="range" onSubmit={submit}>
      <label>
        From <input name="from" defaultValue={from ?? ''} placeholder="first partition" />
      </label>
      <label>
        To <input name="to" defaultValue={to ?? ''} placeholder="last partition" />
      </label>
      <button type="submit">Show</button>
    </form>
  );
}

/** The schedule's state, and the button that pauses or resumes it (as `sluice pause` / `resume`). */
export function ScheduleControl({ pipeline, onDone }: { pipeline: PipelineSummary; onDone(): void }) {
  const { busy, outcome, act } = useAction();
  const state = pipeline.schedule?.state;
  if (!state) return null;
  const next = state === 'PAUSED' ? 'ENABLED' : 'PAUSED';
  const toggle = () =>
    act(async () => {
      await post(path('api', 'pipelines', pipeline.name, 'schedule'), { state: next });
      onDone();
      return next === 'PAUSED' ? 'Schedule paused: ticks are not made up on resume' : 'Schedule resumed';
    });
  return (
    <div class="schedule-control" data-schedule={pipeline.name} data-state={state}>
      <span class={`badge s-${state === 'PAUSED' ? 'paused' : 'enabled'}`} data-schedule-state>
        {state === 'PAUSED' ? 'schedule PAUSED' : 'schedule ENABLED'}
      </span>{' '}
      <button type="button" disabled={busy} onClick={toggle} data-action={next === 'PAUSED' ? 'pause' : 'resume'}>
        {next === 'PAUSED' ? 'Pause' : 'Resume'}
      </button>
      <OutcomeLine outcome={outcome} />
    </div>
  );
}

/** What the selected partitions are, and what can be done with them. */
function SelectionPanel({ pipeline: p, grid, selection, onDone }: { pipeline: PipelineView; grid: PartitionGridView; selection: Selection; onDone(): void }) {
  const pipeline = p.name;
  const from = grid.keys[selection.first]!;
  const to = grid.keys[selection.last]!;
  const single = selection.first === selection.last;
  const detail = useLive<PartitionDetail>(single ? path('api', 'pipelines', pipeline, 'partitions', from) : undefined, (e) => e.pipeline === pipeline);
  const { busy, outcome, act } = useAction();
  const [backfilling, setBackfilling] = useState(false);
  const run = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    // Sent as text, as `--param name=value`: the launcher reads each as its declared type.
    const params = Object.fromEntries(p.params.map((param) => [param.name, String(form.get(param.name) ?? '')]));
    return act(async () => {
      const launch = await post<LaunchView>(path('api', 'pipelines', pipeline, 'runs'), { partition: from, params });
      onDone();
      return launch.kind === 'started' ? `Started run ${launch.runId} (run ${launch.runNumber} of ${from})` : `Not started: ${launch.reason}`;
    });
  };
  return (
    <aside class="selection" data-selection={`${from}..${to}`}>
      <h3>{single ? `Partition ${from}` : `${selection.last - selection.first + 1} partitions, ${from} to ${to}`}</h3>
      {single && detail.data && (
        <dl>
          <dt>Status</dt>
          <dd>
            <Status status={detail.data.status} />
          </dd>
          {detail.data.runId && (
            <>
              <dt>Last run</dt>
              <dd>
                <a href={`#/pipelines/${encodeURIComponent(pipeline)}/runs/${encodeURIComponent(detail.data.runId)}`}>{detail.data.runId}</a> (
                {detail.data.trigger}, run {detail.data.runNumber})
              </dd>
              <dt>Finished</dt>
              <dd>{instant(detail.data.finishedAt) || 'not yet'}</dd>
            </>
          )}
          {detail.data.error && (
            <>
              <dt>Error</dt>
              <dd class="error-text">{errorLine(detail.data.error, detail.data.errorMessage)}</dd>
            </>
          )}
        </dl>
      )}
      {single && (
        <form class="actions" onSubmit={run} data-form="run">
          {p.params.map((param) => (
            <label key={param.name} class="param" title={param.description}>
              {param.name} <span class="muted">({param.type})</span>{' '}
              {param.type === 'boolean' ? (
                <select name={param.name} defaultValue={String(param.default)} data-param={param.name}>
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              ) : (
                <input name={param.name} defaultValue={String(param.default)} data-param={param.name} />
              )}
            </label>
          ))}
          <button type="submit" disabled={busy} data-action="run">
            Run {from} now
          </button>
        </form>
      )}
      <OutcomeLine outcome={outcome} />
      <div class="actions">
        {!backfilling && (
          <button type="button" onClick={() => setBackfilling(true)} data-action="backfill">
            Back-fill {single ? from : 'this range'}…
          </button>
        )}
        {!single && <p class="muted">Shift-click selects a range.</p>}
      </div>
      {backfilling && <BackfillDialog pipeline={p} from={timeKey(p, from)} to={timeKey(p, to)} onClose={() => setBackfilling(false)} />}
    </aside>
  );
}

/** The key of the time dimension in a partition key: what a backfill's range is given in. */
function timeKey(pipeline: PipelineView, key: string): string {
  return pipeline.dimensions ? (key.split('|')[pipeline.dimensions.timeIndex] ?? key) : key;
}

/** Starts a backfill of the range (which partitions, how many at once) and follows it until it ends. */
function BackfillDialog({ pipeline, from, to, onClose }: { pipeline: PipelineView; from: string; to: string; onClose(): void }) {
  const { busy, outcome, act } = useAction();
  const [started, setStarted] = useState<string | undefined>();
  const start = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const only = String(form.get('only')) as BackfillOnlyView;
    const concurrency = Number(form.get('concurrency'));
    const yes = form.get('yes') === 'on';
    return act(async () => {
      const backfill = await post<BackfillView>(path('api', 'pipelines', pipeline.name, 'backfills'), { from, to, only, concurrency, yes });
      setStarted(backfill.backfillId);
      return `Started backfill ${backfill.backfillId}`;
    });
  };
  return (
    <div class="dialog" role="dialog" aria-label="Back-fill" data-dialog="backfill">
      <h3>
        Back-fill {from}
        {from !== to && <> to {to}</>}
      </h3>
      {!started && (
        <form class="actions" onSubmit={start}>
          <label>
            Only{' '}
            <select name="only" defaultValue="missing,failed" data-field="only">
              <option value="missing,failed">missing and failed</option>
              <option value="missing">missing</option>
              <option value="failed">failed</option>
              <option value="all">all (runs succeeded ones again)</option>
            </select>
          </label>
          <label>
            Runs at once <input name="concurrency" type="number" min={1} max={pipeline.maxConcurrentRuns} defaultValue="1" data-field="concurrency" />
          </label>
          <label title="As --yes: a range of more partitions is refused without it, so that a slip does not start a year of runs">
            <input type="checkbox" name="yes" data-field="yes" /> yes, a very large range is what I mean
          </label>
          <button type="submit" disabled={busy} data-action="start-backfill">
            Start backfill
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Close
          </button>
        </form>
      )}
      <OutcomeLine outcome={outcome} />
      {started && <FollowBackfill pipeline={pipeline.name} backfillId={started} />}
    </div>
  );
}

function RunsTable({ pipeline }: { pipeline: PipelineView }) {
  if (pipeline.runs.length === 0) return <p class="muted">No runs yet.</p>;
  return (
    <table class="runs">
      <thead>
        <tr>
          <th>Run</th>
          <th>Partition</th>
          <th>Trigger</th>
          <th>Status</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {pipeline.runs.map((r) => (
          <tr key={r.runId} data-run={r.runId}>
            <td>
              <a href={`#/pipelines/${encodeURIComponent(pipeline.name)}/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</a>
            </td>
            <td>{r.partition}</td>
            <td>{r.trigger}</td>
            <td>
              <Status status={r.status} />
            </td>
            <td>{instant(r.startDate)}</td>
            <td>{duration(r.durationMs)}</td>
            <td class="error-text">{errorLine(r.error, r.errorMessage)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

