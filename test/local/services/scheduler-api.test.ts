import { GetScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import type { LocalSchedule } from '../../../local/engine/local-stage';
import { type SchedulerState, startSchedulerApi } from '../../../local/services/scheduler-api';

const schedule: LocalSchedule = {
  stackName: 'local-steps',
  logicalId: 'ScheduleSchedule',
  name: 'local-steps-schedule',
  arn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/local-steps-schedule',
  scheduleExpression: 'cron(0 6 * * ? *)',
  timezone: 'Europe/Paris',
  enabled: true,
  description: 'sluice steps: 0 6 * * * (Europe/Paris)',
  target: {
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:launcher',
    input: '{"source":"schedule"}',
    properties: {
      Arn: 'arn:aws:lambda:us-east-1:000000000000:function:launcher',
      RoleArn: 'arn:aws:iam::000000000000:role/schedule',
      Input: '{"source":"schedule"}',
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 5 },
    },
  },
};

describe('startSchedulerApi', () => {
  it('sets the state of a schedule when every other field is sent back, and refuses an update that would change one', async () => {
    // Given a schedule served locally
    let state: SchedulerState = 'ENABLED';
    const api = await startSchedulerApi({ schedules: [schedule], state: async () => state, setState: async (_, next) => void (state = next) });
    const client = new SchedulerClient({ endpoint: api.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAOPERATOR', secretAccessKey: 'x' } });
    try {
      const got = await client.send(new GetScheduleCommand({ Name: schedule.name }));
      expect(got).toMatchObject({ State: 'ENABLED', ScheduleExpressionTimezone: 'Europe/Paris', FlexibleTimeWindow: { Mode: 'OFF' }, Description: schedule.description });

      // When an update leaves out the target's retry policy (AWS would reset it)
      const { RetryPolicy: _dropped, ...target } = got.Target!;
      const partial = client.send(
        new UpdateScheduleCommand({ Name: got.Name, ScheduleExpression: got.ScheduleExpression, ScheduleExpressionTimezone: got.ScheduleExpressionTimezone, Description: got.Description, FlexibleTimeWindow: got.FlexibleTimeWindow, Target: { ...target, Arn: target.Arn!, RoleArn: target.RoleArn! }, State: 'DISABLED' }),
      );
      // Then it is refused, naming the field
      await expect(partial).rejects.toThrow(/changes only a schedule's State: Target .* differs/);
      expect(state).toBe('ENABLED');

      // When every field is sent back with the new state, Then the state changes
      await client.send(
        new UpdateScheduleCommand({ Name: got.Name, ScheduleExpression: got.ScheduleExpression, ScheduleExpressionTimezone: got.ScheduleExpressionTimezone, Description: got.Description, FlexibleTimeWindow: got.FlexibleTimeWindow, Target: got.Target, State: 'DISABLED' }),
      );
      expect(state).toBe('DISABLED');
      await expect(client.send(new GetScheduleCommand({ Name: 'other' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      client.destroy();
      await api.stop();
    }
  });
});
