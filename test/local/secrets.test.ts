import { createHash } from 'node:crypto';
import { readdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime';

const projectDir = fileURLToPath(new URL('../../examples', import.meta.url));
const pipelinesDir = fileURLToPath(new URL('./fixtures/secrets', import.meta.url));
const PASSWORD = 'correct-horse-battery-staple-4b1d';

/** Secrets through the local runtime: the real bundles read them with Powertools, under their roles' IAM. */
describe('secrets through the local runtime', () => {
  let home: string;
  let secretsFile: string;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-secrets-'));
    secretsFile = join(home, 'secrets.local.json');
    await writeFile(secretsFile, JSON.stringify({ 'warehouse-password': PASSWORD }));
    runtime = await LocalRuntime.start({ projectDir, pipelinesDir, home, secretsFile });
  }, 180_000);
  afterAll(async () => {
    await runtime?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('gives a task the value of the secret it declares, from the local file', async () => {
    const { execution } = await runtime.run('warehouse', 'default');

    expect(execution?.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution!.output!).results.connect.value).toStrictEqual({ digest: createHash('sha256').update(PASSWORD).digest('hex') });
  }, 60_000);

  it('refuses a secret the task does not declare, naming it and the fix', async () => {
    const { execution } = await runtime.run('sneaky', 'default');

    expect(execution).toMatchObject({ status: 'FAILED', error: 'UndeclaredSecretError' });
    expect(execution?.cause).toContain('reads secret \\"warehouse-password\\", which it does not declare (it declares: api-token)');
  }, 60_000);

  it("denies a task's own SDK call for a secret its role was not granted, as IAM would", async () => {
    const { execution } = await runtime.run('bypass', 'default');

    expect(execution).toMatchObject({ status: 'FAILED', error: 'AccessDeniedException' });
    expect(execution?.cause).toContain('secretsmanager:GetSecretValue');
  }, 60_000);

  it('names the missing secret and the file to add it to when the local file lacks it', async () => {
    const { execution } = await runtime.run('tokens', 'default');

    // Powertools Parameters reports a read that failed as GetParameterError, with the service's message.
    expect(execution).toMatchObject({ status: 'FAILED', error: 'GetParameterError' });
    expect(execution?.cause).toContain(`no local value for secret \\"api-token\\" (sluice/local/api-token): add \\"api-token\\": \\"<value>\\" to ${secretsFile}`);
  }, 60_000);

  it('writes no secret value into the synthesized templates', async () => {
    const assembly = runtime.synth.assemblyDir;
    const templates = (await readdir(assembly, { recursive: true })).filter((f) => f.endsWith('.template.json'));
    expect(templates.length).toBeGreaterThan(0);
    for (const template of templates) expect(await readFile(join(assembly, template), 'utf8')).not.toContain(PASSWORD);
  });
});
