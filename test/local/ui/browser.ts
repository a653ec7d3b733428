import { spawn } from 'node:child_process';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import { type Browser, chromium as playwright } from 'playwright-core';
import { projectDir, repoDir, sluiceBin } from '../../cli/sluice';

/**
 * Headless Chromium from the npm registry: @sparticuz/chromium carries the binary (unpacked to
 * the temporary folder on first use), playwright-core drives it.
 */
export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
}

/** Where tests write screenshots (git-ignored): test-artifacts/ui/NAME.png. */
export const SCREENSHOTS_DIR = join(repoDir, 'test-artifacts', 'ui');

/** A `sluice ui` in the background. */
export interface ConsoleProcess {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly pid: number;
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts `sluice ui --json` and waits for the line announcing its address. */
export async function startConsoleProcess(env: NodeJS.ProcessEnv, args: readonly string[] = []): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, [sluiceBin, 'ui', '--json', ...args], { cwd: projectDir, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timer = setInterval(() => {
      const found = stdout.split('\n').find((l) => l.includes('"event":"console"'));
      if (found) {
        clearInterval(timer);
        resolve(JSON.parse(found) as { url: string; port: number });
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`sluice ui exited with ${code} before it printed its address:\n${stdout}\n${stderr}`));
    });
  });
  return {
    ...line,
    token: new URL(line.url).searchParams.get('token')!,
    pid: child.pid!,
    output: () => `${stdout}\n${stderr}`,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
