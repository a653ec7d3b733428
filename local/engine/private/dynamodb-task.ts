import { http } from '../../node-http';
import type { DynamoAction } from './asl';
import { TaskFailure } from './task-errors';

const TARGETS: Readonly<Record<DynamoAction, string>> = {
  putItem: 'DynamoDB_20120810.PutItem',
  getItem: 'DynamoDB_20120810.GetItem',
  updateItem: 'DynamoDB_20120810.UpdateItem',
  deleteItem: 'DynamoDB_20120810.DeleteItem',
};

/**
 * Serves `arn:aws:states:::dynamodb:*` Tasks against the local DynamoDB, with AWS's result shape
 * (the API response plus `SdkHttpMetadata`/`SdkResponseMetadata`) and error shape
 * (`DynamoDB.<ExceptionName>`, Cause with the service's message).
 *
 * The Task's Parameters are already DynamoDB's wire format, so they are posted as they are on a
 * kept-alive connection: the SDK's signing and middleware cost more than the local write itself,
 * and Step Functions does not go through the JavaScript SDK either.
 */
export class DynamoDbTasks {
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly url: URL;
  private readonly authorization: string;

  constructor(endpoint: string, region: string) {
    this.url = new URL(endpoint);
    // The local DynamoDB requires a signature's presence, not its validity.
    this.authorization = `AWS4-HMAC-SHA256 Credential=local/20000101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=local`;
  }

  async run(action: DynamoAction, parameters: unknown): Promise<unknown> {
    let response: { status: number; requestId: string; body: Record<string, unknown> };
    try {
      response = await this.post(TARGETS[action], JSON.stringify(parameters ?? {}));
    } catch (error) {
      throw new TaskFailure('DynamoDB.AmazonDynamoDBException', error instanceof Error ? error.message : String(error));
    }
    const { status, requestId, body } = response;
    if (status !== 200) {
      const type = String(body.__type ?? 'AmazonDynamoDBException');
      const name = type.slice(type.lastIndexOf('#') + 1);
      const message = String(body.message ?? body.Message ?? name);
      throw new TaskFailure(`DynamoDB.${name}`, `${message} (Service: DynamoDb, Status Code: ${status}, Request ID: ${requestId})`);
    }
    return {
      ...body,
      SdkHttpMetadata: {
        AllHttpHeaders: { 'x-amzn-RequestId': [requestId], 'Content-Type': ['application/x-amz-json-1.0'] },
        HttpHeaders: { 'x-amzn-RequestId': requestId, 'Content-Type': 'application/x-amz-json-1.0' },
        HttpStatusCode: status,
      },
      SdkResponseMetadata: { RequestId: requestId },
    };
  }

  destroy(): void {
    this.agent.destroy();
  }

  private post(target: string, payload: string): Promise<{ status: number; requestId: string; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': Buffer.byteLength(payload),
            'x-amz-target': target,
            'x-amz-date': '20000101T000000Z',
            authorization: this.authorization,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            try {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({
                status: res.statusCode ?? 500,
                requestId: String(res.headers['x-amzn-requestid'] ?? ''),
                body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
              });
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
