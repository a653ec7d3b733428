import {
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoAction } from './asl';
import { TaskFailure } from './task-errors';

/**
 * Serves `arn:aws:states:::dynamodb:*` Tasks against the local DynamoDB, with AWS's result shape
 * (the API response plus `SdkHttpMetadata`/`SdkResponseMetadata`) and error shape
 * (`DynamoDB.<ExceptionName>`, Cause with the service's message).
 */
export class DynamoDbTasks {
  private readonly client: DynamoDBClient;

  constructor(endpoint: string, region: string) {
    this.client = new DynamoDBClient({
      endpoint,
      region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  async run(action: DynamoAction, parameters: unknown): Promise<unknown> {
    const input = parameters as never;
    const command =
      action === 'putItem'
        ? new PutItemCommand(input)
        : action === 'getItem'
          ? new GetItemCommand(input)
          : action === 'updateItem'
            ? new UpdateItemCommand(input)
            : new DeleteItemCommand(input);
    try {
      const { $metadata, ...output } = await this.client.send(command as never as UpdateItemCommand);
      const requestId = $metadata.requestId ?? '';
      return {
        ...output,
        SdkHttpMetadata: {
          AllHttpHeaders: { 'x-amzn-RequestId': [requestId], 'Content-Type': ['application/x-amz-json-1.0'] },
          HttpHeaders: { 'x-amzn-RequestId': requestId, 'Content-Type': 'application/x-amz-json-1.0' },
          HttpStatusCode: $metadata.httpStatusCode ?? 200,
        },
        SdkResponseMetadata: { RequestId: requestId },
      };
    } catch (error) {
      if (error instanceof DynamoDBServiceException) {
        const status = error.$metadata.httpStatusCode ?? 400;
        throw new TaskFailure(
          `DynamoDB.${error.name}`,
          `${error.message} (Service: DynamoDb, Status Code: ${status}, Request ID: ${error.$metadata.requestId ?? ''})`,
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new TaskFailure('DynamoDB.AmazonDynamoDBException', message);
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
