/** `smoke`: replay seeded fixtures to PostHog, compare its answers with the local engine; exit 1 on differences. */
import { FindingError, UsageError } from '../errors.js';
import { normalizeHost, resolveConnection, type PostHogConnection } from '../config/posthog.js';
import type { Report } from '../output/report.js';
import { runSmoke, type SmokeResult } from '../smoke/smoke.js';
import type { CommandContext } from './context.js';

export interface SmokeOptions {
  connection: PostHogConnection & { config?: string };
  queryHost?: string;
  seed?: number;
  days: number;
  track: string;
  ingestTimeoutSeconds: number;
  yes: boolean;
}

export async function smokeCommand(o: SmokeOptions, cmd: CommandContext): Promise<Report> {
  const c = resolveConnection(o.connection);
  const missing: string[] = [];
  if (!c.host) missing.push('--host (env POSTHOG_HOST)');
  if (!c.projectId) missing.push('--project-id (env POSTHOG_PROJECT_ID)');
  if (!c.projectApiKey) missing.push('--project-api-key (env POSTHOG_PROJECT_API_KEY)');
  if (!c.personalApiKey) missing.push('--personal-api-key (env POSTHOG_PERSONAL_API_KEY)');
  if (missing.length) throw new UsageError(`smoke needs ${missing.join(', ')}`);
  if (!/^\d+$/.test(c.projectId!)) throw new UsageError(`--project-id: '${c.projectId}' is not a numeric project id`);
  const result = await runSmoke({
    host: normalizeHost(c.host!),
    queryHost: o.queryHost !== undefined ? normalizeHost(o.queryHost, '--query-host') : undefined,
    projectId: c.projectId!,
    projectApiKey: c.projectApiKey!,
    personalApiKey: c.personalApiKey!,
    seed: o.seed,
    days: o.days,
    track: o.track,
    ingestTimeoutMs: o.ingestTimeoutSeconds * 1000,
    yes: o.yes,
    quiet: cmd.quiet,
  });
  if (cmd.out.format === 'json' || cmd.out.format === 'csv') cmd.out.info(`smoke run ${result.runId}: ${result.events} events replayed, ingested in ${result.ingestSeconds.toFixed(1)} s`);
  const lines = result.checks.filter((x) => !x.ok).flatMap((x) => [`${x.name}:`, ...x.differences.map((d) => `  ${d}`)]);
  return {
    ...render(result),
    failure: result.ok ? undefined : new FindingError(`smoke: PostHog and the local engine disagree (run ${result.runId})`, lines.join('\n')),
  };
}

/**
 * JSON is the checks a CI job asserts on, `[{name, ok, expected, actual, differences}]`: expected
 * is the local engine's answer for the replayed events, actual PostHog's. The run's id, events and
 * ingest time are in the table title (and on stderr with --format json).
 */
function render(r: SmokeResult): Report {
  return {
    json: r.checks.map((x) => ({ name: x.name, ok: x.ok, expected: x.local, actual: x.posthog, differences: x.differences })),
    tables: [
      {
        title: `smoke ${r.ok ? 'passed' : 'FAILED'}: run ${r.runId}, ${r.events} events replayed, ingested in ${r.ingestSeconds.toFixed(1)} s`,
        columns: [
          { key: 'name', header: 'check' },
          { key: 'posthog', header: 'posthog' },
          { key: 'local', header: 'local' },
          { key: 'status', header: 'status', value: (x: (typeof r.checks)[number]) => (x.ok ? 'same' : `${x.differences.length}+ differences`) },
        ],
        rows: r.checks,
      },
    ],
  };
}
