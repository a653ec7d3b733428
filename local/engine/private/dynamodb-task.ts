import { DynamoJsonClient, type DynamoJsonResponse, dynamoJsonError } from '../../dynamodb-json';
import type { DynamoAction } from './asl';
import { TaskFailure } from './task-errors';

const OPERATIONS: Readonly<Record<DynamoAction, string>> = {
  putItem: 'PutItem',
  getItem: 'GetItem',
  updateItem: 'UpdateItem',
  deleteItem: 'DeleteItem',
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
  private readonly client: DynamoJsonClient;

  constructor(endpoint: string, region: string) {
    this.client = new DynamoJsonClient(endpoint, region);
  }

  async run(action: DynamoAction, parameters: unknown): Promise<unknown> {
    let response: DynamoJsonResponse;
    try {
      response = await this.client.send(OPERATIONS[action], parameters);
    } catch (error) {
      throw new TaskFailure('DynamoDB.AmazonDynamoDBException', error instanceof Error ? error.message : String(error));
    }
    const { status, requestId, body } = response;
    if (status !== 200) {
      const { name, message } = dynamoJsonError(body);
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
    this.client.destroy();
  }
}
