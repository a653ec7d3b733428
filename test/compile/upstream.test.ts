import { describe, expect, it } from 'vitest';
import { daily, fanIn, fanOut, hourly, monthly, multiPartitions, sameKey, staticPartitions, timeWindow, weekly } from '../../lib';
import { downstreamPartitions, upstreamGraphIssues, upstreamPartitions, upstreamShapeIssues, type PipelineNode } from '../../lib/compile/upstream';

const day = daily({ start: '2024-01-01' });
const hour = hourly({ start: '2024-01-01' });
const regions = staticPartitions(['eu', 'us']);
const dayByRegion = multiPartitions({ date: day, region: regions });

describe('upstream partition mappings', () => {
  it('maps a key to itself with sameKey', () => {
    expect(downstreamPartitions(sameKey(), day, day, '2024-03-01')).toStrictEqual(['2024-03-01']);
    expect(upstreamPartitions(sameKey(), day, day, '2024-03-01')).toStrictEqual(['2024-03-01']);
  });

  it('makes a day wait for its 24 hours with timeWindow', () => {
    expect(downstreamPartitions(timeWindow(), hour, day, '2024-03-01T23')).toStrictEqual(['2024-03-01']);
    const hours = upstreamPartitions(timeWindow(), hour, day, '2024-03-01');
    expect(hours).toHaveLength(24);
    expect([hours[0], hours[23]]).toStrictEqual(['2024-03-01T00', '2024-03-01T23']);
  });

  it('counts 25 hours on a fall-back day and 23 on a spring-forward day in a zone with daylight saving', () => {
    const zone = 'America/New_York';
    const localHour = hourly({ start: '2024-01-01', timezone: zone });
    const localDay = daily({ start: '2024-01-01', timezone: zone });
    const fallBack = upstreamPartitions(timeWindow(), localHour, localDay, '2024-11-03');
    expect(fallBack).toHaveLength(25);
    expect(fallBack.slice(1, 4)).toStrictEqual(['2024-11-03T01', '2024-11-03T01b', '2024-11-03T02']);
    expect(upstreamPartitions(timeWindow(), localHour, localDay, '2024-03-10')).toHaveLength(23);
  });

  it('makes a month wait for each of its days, and a week for its seven', () => {
    expect(upstreamPartitions(timeWindow(), day, monthly({ start: '2024-01' }), '2024-02')).toHaveLength(29);
    expect(upstreamPartitions(timeWindow(), day, weekly({ start: '2024-01-01' }), '2024-W10')).toStrictEqual([
      '2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08', '2024-03-09', '2024-03-10',
    ]);
  });

  it('fans a static dimension in and out', () => {
    expect(downstreamPartitions(fanIn('region'), dayByRegion, day, '2024-03-01|us')).toStrictEqual(['2024-03-01']);
    expect(upstreamPartitions(fanIn('region'), dayByRegion, day, '2024-03-01')).toStrictEqual(['2024-03-01|eu', '2024-03-01|us']);
    expect(downstreamPartitions(fanOut('region'), day, dayByRegion, '2024-03-01')).toStrictEqual(['2024-03-01|eu', '2024-03-01|us']);
    expect(upstreamPartitions(fanOut('region'), day, dayByRegion, '2024-03-01|eu')).toStrictEqual(['2024-03-01']);
  });
});

describe('upstreamGraphIssues', () => {
  const node = (name: string, upstream?: PipelineNode['upstream'], partitions: PipelineNode['partitions'] = day): PipelineNode => ({ name, upstream, partitions });

  it('accepts a diamond of pipelines', () => {
    expect(
      upstreamGraphIssues([node('a'), node('b', { a: sameKey() }), node('c', { a: sameKey() }), node('d', { b: sameKey(), c: sameKey() })]),
    ).toStrictEqual([]);
  });

  it('fails on a cycle between two pipelines, naming both', () => {
    const issues = upstreamGraphIssues([node('sales', { report: sameKey() }), node('report', { sales: sameKey() })]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/^pipeline cycle: (sales → report → sales|report → sales → report) \(each runs after the one before it\)$/);
    expect(issues[0]!.fix).toMatch(/remove one of these `upstream` entries/);
  });

  it('fails on an unknown upstream, suggesting the closest name', () => {
    const issues = upstreamGraphIssues([node('sales'), node('report', { sale: sameKey() })]);
    expect(issues).toStrictEqual([
      { pipeline: 'report', message: 'upstream pipeline "sale" does not exist', fix: 'did you mean "sales"? `upstream` names pipelines of the same project' },
    ]);
  });

  it('fails on mappings that do not fit the partitions on either side', () => {
    const issues = upstreamGraphIssues([
      node('hours', undefined, hour),
      node('same', { hours: sameKey() }),
      node('backwards', { same: timeWindow() }, hour),
      node('no-region', { same: fanIn('region') }),
    ]);
    expect(issues.map((i) => `${i.pipeline}: ${i.message}`)).toStrictEqual([
      'same: upstream "hours" (same key): same key needs the same kind of partitions on both sides, but the upstream has hourly partitions and this pipeline daily partitions',
      'backwards: upstream "same" (time window): a time window maps finer time partitions into coarser ones (hourly into daily, weekly or monthly; daily into weekly or monthly), but the upstream has daily partitions and this pipeline hourly partitions',
      'no-region: upstream "same" (fan-in of region): upstream has daily partitions, without a static dimension "region"',
    ]);
  });

  it('fails on a pipeline naming itself, and on a mapping that is not one', () => {
    expect(upstreamShapeIssues('sales', { sales: sameKey(), rates: 'same' as never }).map((i) => i.message)).toStrictEqual([
      'the pipeline names itself as an upstream',
      'upstream "rates": the mapping is not a partition mapping',
    ]);
  });
});
