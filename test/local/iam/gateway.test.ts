import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAuthorizer } from '../../../local/iam/authorizer';
import { DECISION_HEADERS, type IamGateway, startIamGateway } from '../../../local/iam/gateway';
import type { LocalRole } from '../../../local/engine/local-stage';
import { LOCAL_ACCESS_KEY } from '../../../local/services/private/loopback';

const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/partitions';
const reader: LocalRole = {
  stackName: 'local-Platform',
  logicalId: 'reader',
  name: 'reader',
  arn: 'arn:aws:iam::000000000000:role/reader',
  statements: [
    { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE },
    { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::raw/*' },
    { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::curated/*' },
  ],
  unknownPolicies: [],
};
const authorizer = new LocalAuthorizer([reader], '000000000000');
const signedBy = (accessKeyId: string) => `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0`;
const signedAsReader = signedBy(authorizer.accessKeyIdOf(reader.arn));

describe('IAM gateway', () => {
  // Stand-ins for DynamoDB and S3 that answer every request: whatever reaches them was let through.
  const backends: Server[] = [];
  let gateway: IamGateway;
  let dynamodb: string;
  let s3: string;
  beforeAll(async () => {
    const endpoints = await Promise.all(
      [0, 1].map(async () => {
        const server = createServer((_, response) => response.end('{}'));
        backends.push(server);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      }),
    );
    [dynamodb, s3] = endpoints;
    gateway = await startIamGateway({ dynamodb, s3, authorize: authorizer.authorize, environment: { account: '000000000000', region: 'us-east-1' } });
  });
  afterAll(async () => {
    await gateway.stop();
    for (const server of backends) server.close();
  });

  const getItem = (table: string) => ({
    method: 'POST',
    path: '/',
    headers: { authorization: signedAsReader, 'x-amz-target': 'DynamoDB_20120810.GetItem' },
    body: JSON.stringify({ TableName: table, Key: { pk: { S: 'a' } } }),
  });

  it('sends a DynamoDB call its caller may make straight to DynamoDB, and leaves a refused one to the gateway, which refuses it', async () => {
    // Given a role that may read one table
    // When it reads that table and another, as its function's SDK would send the calls
    const allowed = gateway.direct(gateway.dynamodb, getItem('partitions'));
    const refused = gateway.direct(gateway.dynamodb, getItem('other'));

    // Then the allowed call may skip the gateway, the refused one may not
    expect(allowed).toStrictEqual({ endpoint: dynamodb });
    expect(refused).toBeUndefined();
    // And the gateway answers the refused one with AWS's AccessDeniedException
    const { path, ...request } = getItem('other');
    const answer = await fetch(`${gateway.dynamodb}${path}`, { method: request.method, headers: request.headers, body: request.body });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      Message: expect.stringMatching(/assumed-role\/reader\/.* is not authorized to perform: dynamodb:GetItem on resource: .*table\/other because no identity-based policy allows/),
    });
  });

  it('leaves to the gateway a DynamoDB call whose body it has not seen, and calls to endpoints that are not its own', () => {
    const { body: _, ...withoutBody } = getItem('partitions');
    expect(gateway.direct(gateway.dynamodb, withoutBody)).toBeUndefined();
    expect(gateway.direct(dynamodb, getItem('partitions'))).toBeUndefined();
  });

  it('decides a DynamoDB call whose body is JSON but no object as one on every table, on both paths', async () => {
    const nullBody = { ...getItem('partitions'), body: 'null' };
    expect(gateway.direct(gateway.dynamodb, nullBody)).toBeUndefined();
    const answer = await fetch(gateway.dynamodb, { method: 'POST', headers: nullBody.headers, body: nullBody.body });
    expect(await answer.json()).toMatchObject({ __type: 'com.amazon.coral.service#AccessDeniedException' });
  });

  it('sends an S3 call its caller may make straight to S3, signed with the key the local S3 accepts', () => {
    // Given a role that may read objects of the raw bucket
    const read = (path: string, method = 'GET') => gateway.direct(gateway.s3, { method, path, headers: { authorization: signedAsReader } });

    // Then a read of one goes straight to S3, a write or a read elsewhere through the gateway
    expect(read('/raw/sales/2024-01-01.csv?x-id=GetObject')).toStrictEqual({ endpoint: s3, authorization: signedBy(LOCAL_ACCESS_KEY) });
    expect(read('/raw/sales/2024-01-01.csv?x-id=PutObject', 'PUT')).toBeUndefined();
    expect(read('/curated/sales.csv?x-id=GetObject')).toBeUndefined();
    expect(gateway.endpoints).toStrictEqual([
      { url: gateway.dynamodb, readsBody: true, readsHeaders: DECISION_HEADERS },
      { url: gateway.s3, readsBody: false, readsHeaders: DECISION_HEADERS },
    ]);
  });

  it('leaves to the gateway an S3 copy to a key its caller may write from one it may not read, which the gateway refuses', async () => {
    // Given a role that may write objects of the curated bucket and read those of the raw one
    const copy = (source: string) => ({
      method: 'PUT',
      path: '/curated/sales.csv?x-id=CopyObject',
      headers: { authorization: signedAsReader, 'x-amz-copy-source': source },
    });

    // Then a copy from raw goes straight to S3, a copy from elsewhere through the gateway
    expect(gateway.direct(gateway.s3, copy('raw/sales/2024-01-01.csv'))).toStrictEqual({ endpoint: s3, authorization: signedBy(LOCAL_ACCESS_KEY) });
    expect(gateway.direct(gateway.s3, copy('secrets/keys.csv'))).toBeUndefined();
    // And the gateway refuses that one as AWS does
    const { path, ...request } = copy('secrets/keys.csv');
    const answer = await fetch(`${gateway.s3}${path}`, request);
    expect(answer.status).toBe(403);
    expect(await answer.text()).toMatch(/<Code>AccessDenied<\/Code>.*s3:GetObject on resource: "?arn:aws:s3:::secrets\/keys\.csv/s);
  });
});
