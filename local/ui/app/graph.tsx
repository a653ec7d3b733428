import type { TaskNode } from '../views';

const NODE_W = 140;
const NODE_H = 30;
const GAP_X = 50;
const GAP_Y = 14;

/** The task graph: tasks in columns by depth (longest chain of `after` before them), edges left to right. */
export function TaskGraph({ tasks }: { tasks: readonly TaskNode[] }) {
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen = new Set<string>()): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    const task = tasks.find((t) => t.name === name);
    const d = task && task.after.length ? Math.max(...task.after.map((a) => depthOf(a, seen))) + 1 : 0;
    depth.set(name, d);
    return d;
  };
  const columns: string[][] = [];
  for (const task of tasks) (columns[depthOf(task.name)] ??= []).push(task.name);
  const position = new Map<string, { x: number; y: number }>();
  columns.forEach((names, c) => names.forEach((name, r) => position.set(name, { x: c * (NODE_W + GAP_X), y: r * (NODE_H + GAP_Y) })));
  const width = Math.max(1, columns.length) * (NODE_W + GAP_X) - GAP_X;
  const height = Math.max(1, ...columns.map((c) => c.length)) * (NODE_H + GAP_Y) - GAP_Y;
  return (
    <svg class="graph" width={width + 2} height={height + 2} viewBox={`-1 -1 ${width + 2} ${height + 2}`} role="img" aria-label="task graph">
      {tasks.flatMap((task) =>
        task.after.map((from) => {
          const a = position.get(from);
          const b = position.get(task.name);
          if (!a || !b) return null;
          const x1 = a.x + NODE_W;
          const y1 = a.y + NODE_H / 2;
          const x2 = b.x;
          const y2 = b.y + NODE_H / 2;
          return <path key={`${from}-${task.name}`} class="edge" d={`M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`} />;
        }),
      )}
      {tasks.map((task) => {
        const p = position.get(task.name)!;
        return (
          <g key={task.name} class="node" data-task={task.name} transform={`translate(${p.x},${p.y})`}>
            <rect width={NODE_W} height={NODE_H} rx={4} />
            <text x={NODE_W / 2} y={NODE_H / 2 + 4} text-anchor="middle">
              {task.name}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
