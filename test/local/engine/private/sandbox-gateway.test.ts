import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECISION_HEADERS, type GatewayRequest, type GatewayShortcut } from '../../../../local/iam/gateway';
import { Sandbox } from '../../../../local/engine/private/sandbox';

const handlerFile = fileURLToPath(new URL('./fixtures/get-item.cjs', import.meta.url));

/** A request as it reached a recorder: the table it names, its operation and its credential. */
interface Received {
  readonly table: string;
  readonly target: string | undefined;
  readonly authorization: string | undefined;
}

/** A loopback server answering every request with `status` and `body`, keeping what reached it. */
async function recorder(status: number, body: string): Promise<{ url: string; tables: string[]; received: Received[]; server: Server }> {
  const tables: string[] = [];
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      const table = JSON.parse(text || '{}').TableName;
      tables.push(table);
      received.push({ table, target: request.headers['x-amz-target'] as string | undefined, authorization: request.headers.authorization });
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tables, received, server };
}

describe("a sandbox's SDK calls to the IAM gateway", () => {
  let gateway: Awaited<ReturnType<typeof recorder>>;
  let dynamodb: Awaited<ReturnType<typeof recorder>>;
  let sandbox: Sandbox;
  /** The headers of each request the sandbox asked about, as the decision got them. */
  const asked: GatewayRequest['headers'][] = [];

  beforeAll(async () => {
    // Stand-ins: the gateway's HTTP side refuses what reaches it; DynamoDB has every item.
    gateway = await recorder(400, JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: 'refused by the gateway' }));
    dynamodb = await recorder(200, JSON.stringify({ Item: { pk: { S: 'a' } } }));
    // The gateway's decision: the function may read the table "allowed" and no other. It also reads
    // a header the real gateway does not (content-type), as a future check might: the sandbox must
    // send what the endpoint lists, not a fixed set, or the allowed read is refused.
    const shortcut: GatewayShortcut = {
      endpoints: [{ url: gateway.url, readsBody: true, readsHeaders: [...DECISION_HEADERS, 'content-type'] }],
      direct: (endpoint, request) => {
        asked.push(request.headers);
        const headers: Readonly<Record<string, string | undefined>> = request.headers;
        const decided =
          endpoint === gateway.url &&
          headers['content-type'] === 'application/x-amz-json-1.0' &&
          headers['x-amz-target'] === 'DynamoDB_20120810.GetItem' &&
          JSON.parse(request.body ?? '{}').TableName === 'allowed';
        return decided ? { endpoint: dynamodb.url } : undefined;
      },
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
    // And the decision got exactly the headers the endpoint lists (of those the request has)
    expect(asked).toStrictEqual([
      {
        authorization: expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=local\//),
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        'content-type': 'application/x-amz-json-1.0',
      },
    ]);
    // And DynamoDB got the operation and the signed credential the decision was made on
    expect(dynamodb.received).toStrictEqual([
      { table: 'allowed', target: 'DynamoDB_20120810.GetItem', authorization: (asked[0] as { authorization: string }).authorization },
    ]);
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
