import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { MAX_RECEIVE_COUNT, S3ArrivalTrigger, ScheduleTrigger, objectKeyMatcher } from '../../lib/constructs';
import { s3Arrival } from '../../lib/definitions';
import { testStack } from './helpers';

function launcherIn(stack: ReturnType<typeof testStack>['stack']): lambda.Function {
  return new lambda.Function(stack, 'Launcher', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {}'),
  });
}

describe('ScheduleTrigger', () => {
  it('invokes the launcher on the cron in its time zone, on time, with the scheduled time', () => {
    // Given a schedule at 01:30 Paris time
    const { stack } = testStack();
    // When it is built
    new ScheduleTrigger(stack, 'Schedule', {
      schedule: { cron: '30 1 * * *', timezone: 'Europe/Paris', expression: 'cron(30 1 * * ? *)' },
      launcher: launcherIn(stack),
    });
    // Then
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: Match.objectLike({
        Input: JSON.stringify({ source: 'schedule', scheduledTime: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 5 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });
});

describe('S3ArrivalTrigger', () => {
  const build = () => {
    const { stack } = testStack();
    const bucket = new s3.Bucket(stack, 'Raw', { eventBridgeEnabled: true });
    new S3ArrivalTrigger(stack, 'Arrival', {
      bucket,
      trigger: s3Arrival({ bucket: 'raw', prefix: 'sales/', suffix: '.csv' }),
      launcher: launcherIn(stack),
    });
    return { template: Template.fromStack(stack), bucketId: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket), stack };
  };

  it('matches objects created in the bucket under the prefix with the suffix', () => {
    const { template, bucketId } = build();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [{ Ref: bucketId }] }, object: { key: [{ wildcard: 'sales/*.csv' }] } },
      },
      Targets: [Match.objectLike({ Arn: Match.anyValue() })],
    });
  });

  it('queues arrivals, with a dead-letter queue after three receives, for the launcher to drain', () => {
    const { template } = build();
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    expect(MAX_RECEIVE_COUNT).toBe(3);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });
});

describe('S3ArrivalTrigger dead letters', () => {
  it('lets the launcher send to its dead-letter queue, and to no other queue, so it can move a message there with the reason', () => {
    const { stack } = testStack();
    const bucket = new s3.Bucket(stack, 'Raw', { eventBridgeEnabled: true });
    const trigger = new S3ArrivalTrigger(stack, 'Arrival', { bucket, trigger: s3Arrival({ bucket: 'raw', prefix: 'sales/' }), launcher: launcherIn(stack) });
    const template = Template.fromStack(stack);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
    const sends = statements.filter((st) => [st.Action].flat().includes('sqs:SendMessage'));
    expect(sends.map((st) => st.Resource)).toStrictEqual([stack.resolve(trigger.deadLetterQueue.queueArn)]);
    // It finds that queue from its source queue's redrive policy, which consuming lets it read.
    const reads = statements.filter((st) => [st.Action].flat().includes('sqs:GetQueueAttributes'));
    expect(reads.map((st) => st.Resource)).toContainEqual(stack.resolve(trigger.queue.queueArn));
  });
});

describe('objectKeyMatcher', () => {
  it('uses a prefix or suffix matcher when only one is given, and none for any key', () => {
    expect(objectKeyMatcher({ prefix: 'in/' })).toStrictEqual([{ prefix: 'in/' }]);
    expect(objectKeyMatcher({ suffix: '.csv' })).toStrictEqual([{ suffix: '.csv' }]);
    expect(objectKeyMatcher({})).toBeUndefined();
  });

  it('escapes wildcard characters and encodes keys as S3 events carry them', () => {
    expect(objectKeyMatcher({ prefix: 'a*b/', suffix: '.csv' })).toStrictEqual([{ wildcard: 'a\\*b/*.csv' }]);
    expect(objectKeyMatcher({ prefix: 'my data/' })).toStrictEqual([{ prefix: 'my+data/' }]);
  });
});
