import { useEffect, useState } from 'preact/hooks';
import type { LaunchView, PartitionDetail, PartitionGridView, PipelineView } from '../views';
import { path, post } from './api';
import { duration, errorLine, instant } from './format';
import { TaskGraph } from './graph';
import { PartitionGrid, type Selection } from './grid';
import { useLive } from './hooks';
import { Problem, Status } from './status';

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
            · schedule <code>{p.schedule.cron}</code> {p.schedule.timezone}, next {instant(p.schedule.next) || 'never'}
          </>
        )}
        {p.triggers.length > 0 && <> · triggers {p.triggers.join(', ')}</>}
      </p>
      <h2>Tasks</h2>
      <TaskGraph tasks={p.tasks} />
      <h2>Partitions</h2>
      <RangeForm name={name} from={from} to={to} />
      <Problem error={grid.error} loading={!grid.data && grid.loading} />
      {grid.data && (
        <div class="grid-and-actions">
          <PartitionGrid grid={grid.data} dimensions={p.dimensions} selection={selection} onSelect={setSelection} />
          {selection && <SelectionPanel pipeline={name} grid={grid.data} selection={selection} onDone={grid.reload} />}
        </div>
      )}
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

/** What the selected partitions are, and what can be done with them. */
function SelectionPanel({ pipeline, grid, selection, onDone }: { pipeline: string; grid: PartitionGridView; selection: Selection; onDone(): void }) {
  const from = grid.keys[selection.first]!;
  const to = grid.keys[selection.last]!;
  const single = selection.first === selection.last;
  const detail = useLive<PartitionDetail>(single ? path('api', 'pipelines', pipeline, 'partitions', from) : undefined, (e) => e.pipeline === pipeline);
  const [outcome, setOutcome] = useState<{ text: string; bad: boolean } | undefined>();
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<string>) => {
    setBusy(true);
    try {
      setOutcome({ text: await action(), bad: false });
      onDone();
    } catch (error) {
      setOutcome({ text: (error as Error).message, bad: true });
    } finally {
      setBusy(false);
    }
  };
  const run = () =>
    act(async () => {
      const launch = await post<LaunchView>(path('api', 'pipelines', pipeline, 'runs'), { partition: from });
      return launch.kind === 'started' ? `Started run ${launch.runId} (run ${launch.attempt} of ${from})` : `Not started: ${launch.reason}`;
    });
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
                {detail.data.trigger}, run {detail.data.attempt})
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
      <div class="actions">
        {single && (
          <button type="button" disabled={busy} onClick={run} data-action="run">
            Run {from} now
          </button>
        )}
        {!single && <p class="muted">Shift-click selects a range.</p>}
      </div>
      {outcome && (
        <p class={outcome.bad ? 'error' : 'ok'} role="status">
          {outcome.text}
        </p>
      )}
    </aside>
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

