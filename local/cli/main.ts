/**
 * The `sluice` command (bin/sluice.js loads it through tsx). Checks the Node.js version before
 * loading anything that needs a newer one.
 */
import module from 'node:module';

// The sandboxes of the local runtime resolve a bundle's AWS SDK through `module.registerHooks`
// (Node.js 22.15 and 23.5 on); the interpreter needs `Promise.withResolvers` (22).
if (typeof module.registerHooks !== 'function') {
  process.stderr.write(`sluice needs Node.js 22.15 or later; this is ${process.version}. Run it as \`npx sluice\`, which uses the project's Node.js 24.\n`);
  process.exit(2);
}

// V8 keeps the compiled code of the modules a command loads (in the OS's temporary folder), so
// the next command does not compile them again: about a quarter of a second of a warm start.
module.enableCompileCache?.();

// A reader that stops early (`sluice logs <run> | head`) closes the pipe: what is written after
// that is dropped, and the command goes on to its end (a run it started finishes), instead of
// dying of the write error with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

// Taken before the CLI redirects what functions print: these write to the real streams.
const writers = [process.stdout, process.stderr].map((stream) => stream.write.bind(stream));

const { runCli } = await import('./cli');
const code = await runCli(process.argv.slice(2));
// A pipe takes large output asynchronously, and process.exit drops what is still queued (a
// `--json` status of a thousand partitions was cut at 64 KB): exit once both streams are written.
await Promise.all(writers.map((write) => new Promise<void>((resolve) => write('', () => resolve()))));
// Handlers may leave timers or sockets open, as they may in a Lambda container: do not wait for them.
process.exit(code);
