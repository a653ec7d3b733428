import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayShortcut } from '../../../../local/iam/gateway';
import { Sandbox } from '../../../../local/engine/private/sandbox';

const handlerFile = fileURLToPath(new URL('./fixtures/get-item.cjs', import.meta.url));

/** A loopback server answering every request with `status` and `body`, keeping the tables they name. */
async function recorder(status: number, body: string): Promise<{ url: string; tables: string[]; server: Server }> {
  const tables: string[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      tables.push(JSON.parse(text || '{}').TableName);
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tables, server };
}

describe("a sandbox's SDK calls to the IAM gateway", () => {
  let gateway: Awaited<ReturnType<typeof recorder>>;
  let dynamodb: Awaited<ReturnType<typeof recorder>>;
  let sandbox: Sandbox;

  beforeAll(async () => {
    // Stand-ins: the gateway's HTTP side refuses what reaches it; DynamoDB has every item.
    gateway = await recorder(400, JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: 'refused by the gateway' }));
    dynamodb = await recorder(200, JSON.stringify({ Item: { pk: { S: 'a' } } }));
    // The gateway's decision: the function may read the table "allowed" and no other.
    const shortcut: GatewayShortcut = {
      endpoints: [{ url: gateway.url, readsBody: true }],
      direct: (endpoint, request) =>
        endpoint === gateway.url && JSON.parse(request.body ?? '{}').TableName === 'allowed' ? { endpoint: dynamodb.url } : undefined,
    };
    sandbox = new Sandbox(
      {
        functionName: 'reader',
        handlerFile,
        handlerExport: 'handler',
        environment: {
          AWS_ENDPOINT_URL_DYNAMODB: gateway.url,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
        },
        memoryMb: 256,
        gateway: shortcut,
      },
      import.meta.url,
    );
  });

  afterAll(async () => {
    await sandbox.stop();
    for (const { server } of [gateway, dynamodb]) server.close();
  });

  const invoke = (table: string) =>
    sandbox.run({ requestId: `req-${table}`, event: JSON.stringify({ table }), context: {}, timeoutSeconds: 30 });

  it('sends an allowed call straight to the service, never through the gateway', async () => {
    // When the function reads the table it may read
    const result = await invoke('allowed');

    // Then DynamoDB answered it, and the gateway never saw it
    expect(result).toMatchObject({ ok: true, payload: { found: true } });
    expect(dynamodb.tables).toStrictEqual(['allowed']);
    expect(gateway.tables).toStrictEqual([]);
  });

  it('sends a refused call through the gateway, which refuses it', async () => {
    // When the function reads a table it may not read
    const result = await invoke('forbidden');

    // Then the gateway got it and refused it, and DynamoDB never saw it
    expect(result).toMatchObject({ ok: false, errorType: 'AccessDeniedException' });
    expect(gateway.tables).toStrictEqual(['forbidden']);
    expect(dynamodb.tables).toStrictEqual(['allowed']);
  });
});
