import { AsyncLocalStorage } from 'node:async_hooks';

/** Receives what one invocation wrote, line by line. */
export type OutputSink = (stream: 'stdout' | 'stderr', line: string) => void;

/**
 * Per-invocation capture of what in-process stand-in handlers print (`replaceHandler`; a sandbox
 * hands its invocation's output over itself, see `sandbox.ts`).
 *
 * On Lambda each invocation's output lands in CloudWatch Logs tagged with its request id. Here the
 * handlers of concurrent branches share one process, so `process.stdout.write` and
 * `process.stderr.write` are wrapped (whatever they are when an invocation starts: the CLI may
 * have redirected them) to hand each complete line written in an invocation's async context to
 * that invocation's sink, and then pass it on as before.
 */
const storage = new AsyncLocalStorage<{ sink: OutputSink; partial: Record<'stdout' | 'stderr', string> }>();
const wrapped = new WeakSet<object>();

function wrap(stream: NodeJS.WriteStream, name: 'stdout' | 'stderr'): void {
  const current = stream.write;
  if (wrapped.has(current)) return;
  const write = function (this: unknown, chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    const capture = storage.getStore();
    if (capture) {
      const text = capture.partial[name] + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const lines = text.split('\n');
      capture.partial[name] = lines.pop() ?? '';
      for (const line of lines) capture.sink(name, line);
    }
    return (current as (...args: unknown[]) => boolean).call(this ?? stream, chunk, ...rest);
  } as typeof stream.write;
  wrapped.add(write);
  stream.write = write;
}

/** Runs `fn` with the output written in its async context also handed to `sink`, line by line. */
export async function captureOutput<T>(sink: OutputSink, fn: () => Promise<T>): Promise<T> {
  wrap(process.stdout, 'stdout');
  wrap(process.stderr, 'stderr');
  const capture = { sink, partial: { stdout: '', stderr: '' } };
  try {
    return await storage.run(capture, fn);
  } finally {
    for (const name of ['stdout', 'stderr'] as const) if (capture.partial[name] !== '') sink(name, capture.partial[name]);
  }
}
