import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { UpstreamTrigger } from '../../lib/constructs';

describe('UpstreamTrigger', () => {
  it('queues the "Partition Succeeded" events of the upstreams on the stage bus for the launcher, with a dead-letter queue', () => {
    // Given
    const stack = new Stack();
    const eventBus = events.EventBus.fromEventBusName(stack, 'Bus', 'sluice-prod');
    const launcher = new lambda.Function(stack, 'Launcher', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => null;') });

    // When
    const trigger = new UpstreamTrigger(stack, 'Upstream', { eventBus, upstreams: ['sales', 'rates'], launcher });

    // Then
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'sluice-prod',
      EventPattern: { source: ['sluice'], 'detail-type': ['Partition Succeeded'], detail: { pipeline: ['sales', 'rates'] } },
      Targets: [{ Arn: stack.resolve(trigger.queue.queueArn), Id: 'Target0' }],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: stack.resolve(trigger.deadLetterQueue.queueArn), maxReceiveCount: 3 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: stack.resolve(trigger.queue.queueArn),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(Object.keys(template.findResources('AWS::Events::Rule'))).toHaveLength(1);
  });
});
