import { describe, expect, it } from 'vitest';
import {
  buildFailuresByStepQuery,
  buildTimeToFirstQuery,
  buildTrackCompletionQuery,
  buildTrackFunnelQuery,
  findTrack,
  loadTracks,
  trackSteps,
} from '../../src/definitions/discover.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { dateRangeFromOptions, parseDateOption, parseWindow, checkRelativeOrder } from '../../src/cli/range-options.js';
import { percentileFromBins } from '../../src/discover/percentiles.js';
import { UsageError } from '../../src/errors.js';

const opts = {
  dateRange: { date_from: '-30d', date_to: null },
  window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' as const },
  order: 'ordered' as const,
  deployment: 'cloud' as const,
};

describe('Discover track definitions', () => {
  it('loads every track with known step keys and the required resources', () => {
    const slugs = loadTracks().map((t) => t.slug);
    for (const s of ['server', 'kubernetes', 'eks', 'postgres', 'mysql', 'rds-postgres', 'rds-mysql', 'ec2', 'aws-console', 'saml', 'windows-desktop']) {
      expect(slugs).toContain(s);
    }
    for (const t of loadTracks()) {
      expect(t.steps[0]).toBe('started');
      expect(t.steps[1]).toBe('resourceSelection');
      for (const s of t.steps) expect(taxonomy().discover.events[s]).toMatch(/^tp\.ui\.discover\./);
    }
  });

  it('drops self-hosted-only steps from the cloud flow', () => {
    const rds = findTrack('rds-postgres');
    expect(trackSteps(rds, 'cloud')).not.toContain('createDiscoveryConfig');
    expect(trackSteps(rds, 'self-hosted')).toContain('createDiscoveryConfig');
    expect(trackSteps(rds, 'cloud')).toEqual([
      'started', 'resourceSelection', 'integrationAwsOidcConnect', 'databaseEnrollRds', 'deployService',
      'databaseConfigureIamPolicy', 'principalsConfigure', 'testConnection', 'completed',
    ]);
  });

  it('suggests the closest slug for a misspelled resource', () => {
    expect(() => findTrack('rds-postgress')).toThrow(/did you mean 'rds-postgres'/);
    try {
      findTrack('nope');
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).hint).toMatch(/server, .*windows-desktop/);
    }
  });

  it('compiles a track to a FunnelsQuery counted per wizard session', () => {
    const q = buildTrackFunnelQuery(findTrack('server'), opts) as any;
    const tx = taxonomy().discover;
    expect(q.kind).toBe('FunnelsQuery');
    expect(q.series.map((s: any) => s.event)).toEqual([
      tx.events.started, tx.events.resourceSelection, tx.events.deployService, tx.events.principalsConfigure, tx.events.testConnection, tx.events.completed,
    ]);
    // every step counts SUCCESS or SKIPPED only
    for (const s of q.series) {
      expect(s.properties).toContainEqual({ key: tx.properties.status, type: 'event', operator: 'exact', value: ['DISCOVER_STATUS_SUCCESS', 'DISCOVER_STATUS_SKIPPED'] });
    }
    // started has no resource; the rest are filtered to the track's resource
    expect(q.series[0].properties).toHaveLength(1);
    for (const s of q.series.slice(1)) {
      expect(s.properties).toContainEqual({ key: tx.properties.resource, type: 'event', operator: 'exact', value: ['DISCOVER_RESOURCE_SERVER'] });
    }
    expect(q.funnelsFilter).toMatchObject({
      funnelAggregateByHogQL: `properties.\`${tx.properties.sessionId}\``,
      funnelWindowInterval: 1,
      funnelWindowIntervalUnit: 'day',
      funnelOrderType: 'ordered',
      breakdownAttributionType: 'step',
      breakdownAttributionValue: 1,
    });
    expect(q.breakdownFilter).toMatchObject({ breakdown: tx.properties.resource, breakdown_type: 'event' });
  });

  it('adds --breakdown to the one breakdown list PostHog funnels read, and first-touch for unordered funnels', () => {
    const q = buildTrackFunnelQuery(findTrack('eks'), { ...opts, breakdown: 'tp.discover.deploy.method' }) as any;
    // PostHog's funnel runner ignores `breakdowns`: the list goes in `breakdown`, one type for all
    expect(q.breakdownFilter).toEqual({ breakdown_type: 'event', breakdown: [taxonomy().discover.properties.resource, 'tp.discover.deploy.method'], breakdown_limit: 100 });
    expect(q.breakdownFilter.breakdowns).toBeUndefined();
    const u = buildTrackFunnelQuery(findTrack('eks'), { ...opts, order: 'unordered' }) as any;
    expect(u.funnelsFilter.breakdownAttributionType).toBe('first_touch');
  });

  it('refuses a person-property --breakdown (it cannot share a funnel breakdown with the event resource) and an empty one', () => {
    expect(() => buildTrackFunnelQuery(findTrack('eks'), { ...opts, breakdown: 'person:connect.os' })).toThrow(/properties of one type/);
    expect(() => buildTrackFunnelQuery(findTrack('eks'), { ...opts, breakdown: 'person:' })).toThrow(/--breakdown: 'person:' names no property/);
  });

  it('builds the completion-time funnel from first step to "resource added" (the last required step), attributed to it', () => {
    const q = buildTrackCompletionQuery(findTrack('kubernetes'), opts) as any;
    expect(q.series).toHaveLength(2);
    expect(q.series[1].event).toBe(taxonomy().discover.events.testConnection);
    expect(q.funnelsFilter).toMatchObject({ breakdownAttributionType: 'step', breakdownAttributionValue: 1 });
    const u = buildTrackCompletionQuery(findTrack('kubernetes'), { ...opts, order: 'unordered' }) as any;
    expect(u.funnelsFilter.breakdownAttributionType).toBe('first_touch');
  });

  it('builds failures and time-to-first queries PostHog accepts', () => {
    const f = buildFailuresByStepQuery(['deployService'], opts.dateRange, ['DISCOVER_RESOURCE_SERVER']) as any;
    expect(f.kind).toBe('TrendsQuery');
    expect(f.series.map((s: any) => s.custom_name)).toEqual(['error:deployService', 'aborted:deployService', 'reached:deployService', 'failed:deployService']);
    // the error rate's terms count distinct wizard sessions
    expect(f.series[2]).toMatchObject({ math: 'hogql', math_hogql: 'count(DISTINCT properties.`tp.discover.metadata.id`)' });
    expect(f.trendsFilter.display).toBe('ActionsTable');
    const t = buildTimeToFirstQuery({ dateRange: opts.dateRange, window: opts.window, signupEvent: null, vizType: 'time_to_convert', binCount: 90 }) as any;
    expect(t.series[0].event).toBeNull();
    expect(t.funnelsFilter).toMatchObject({ funnelVizType: 'time_to_convert', binCount: 90 });
  });
});

describe('range options', () => {
  it('accepts absolute and relative dates and rejects garbage', () => {
    expect(parseDateOption('--from', '2026-11-01')).toBe('2026-11-01');
    expect(parseDateOption('--from', '-30d')).toBe('-30d');
    expect(parseDateOption('--from', 'mStart')).toBe('mStart');
    expect(() => parseDateOption('--from', '2026-13-01')).toThrow(/--from: '2026-13-01' is not a date/);
    expect(() => parseDateOption('--to', 'yesterday')).toThrow(/--to/);
  });
  it('rejects --from after --to', () => {
    expect(() => dateRangeFromOptions('2026-11-10', '2026-11-01', '-30d')).toThrow(/after --to/);
    expect(() => checkRelativeOrder({ date_from: '-1d', date_to: '-10d' }, new Date('2026-11-21T00:00:00Z'))).toThrow(/after --to/);
    expect(dateRangeFromOptions('2026-11-01', '2026-11-01', '-30d')).toEqual({ date_from: '2026-11-01', date_to: '2026-11-01' });
  });
  it('parses conversion windows in every PostHog unit', () => {
    expect(parseWindow('30m')).toEqual({ funnelWindowInterval: 30, funnelWindowIntervalUnit: 'minute' });
    expect(parseWindow('1d')).toEqual({ funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' });
    expect(parseWindow('2 weeks')).toEqual({ funnelWindowInterval: 2, funnelWindowIntervalUnit: 'week' });
    expect(parseWindow('1mo')).toEqual({ funnelWindowInterval: 1, funnelWindowIntervalUnit: 'month' });
    expect(() => parseWindow('0d')).toThrow(/--window/);
    expect(() => parseWindow('soon')).toThrow(/--window/);
  });
});

describe('percentiles from time-to-convert bins', () => {
  it('interpolates inside the bin holding the rank', () => {
    const bins: [number, number][] = [[0, 10], [100, 10], [200, 0]];
    expect(percentileFromBins(bins, 0.5)).toBe(100);
    expect(percentileFromBins(bins, 0.75)).toBe(150);
    expect(percentileFromBins(bins, 0.9)).toBe(180);
    expect(percentileFromBins([], 0.9)).toBeNull();
  });
});
