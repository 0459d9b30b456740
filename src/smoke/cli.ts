/** `smoke` glue: options -> runSmoke() -> summary table/json; exit 1 on differences. */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { emit } from '../output/emit.js';
import { FindingError, UsageError } from '../errors.js';
import { normalizeHost, resolveConnection } from '../config/posthog.js';
import { runSmoke, type SmokeResult } from './smoke.js';

export async function smokeCommand(cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const o = cmd.opts() as Record<string, unknown>;
  const c = resolveConnection({ host: o.host, projectId: o.projectId, projectApiKey: o.projectApiKey, personalApiKey: o.personalApiKey, config: o.config });
  const missing: string[] = [];
  if (!c.host) missing.push('--host (env POSTHOG_HOST)');
  if (!c.projectId) missing.push('--project-id (env POSTHOG_PROJECT_ID)');
  if (!c.projectApiKey) missing.push('--project-api-key (env POSTHOG_PROJECT_API_KEY)');
  if (!c.personalApiKey) missing.push('--personal-api-key (env POSTHOG_PERSONAL_API_KEY)');
  if (missing.length) throw new UsageError(`smoke needs ${missing.join(', ')}`);
  if (!/^\d+$/.test(c.projectId!)) throw new UsageError(`--project-id: '${c.projectId}' is not a numeric project id`);
  const result = await runSmoke({
    host: normalizeHost(c.host!),
    queryHost: typeof o.queryHost === 'string' ? normalizeHost(o.queryHost, '--query-host') : undefined,
    projectId: c.projectId!,
    projectApiKey: c.projectApiKey!,
    personalApiKey: c.personalApiKey!,
    seed: o.seed as number | undefined,
    days: o.days as number,
    track: o.track as string,
    ingestTimeoutMs: (o.ingestTimeout as number) * 1000,
    yes: !!o.yes,
    quiet: g.quiet,
  });
  emit(g, render(result));
  if (!result.ok) {
    const lines = result.checks.filter((x) => !x.ok).flatMap((x) => [`${x.name}:`, ...x.differences.map((d) => `  ${d}`)]);
    throw new FindingError(`smoke: PostHog and the local engine disagree (run ${result.runId})`, lines.join('\n'));
  }
}

function render(r: SmokeResult) {
  return {
    json: r,
    table: {
      title: `smoke ${r.ok ? 'passed' : 'FAILED'}: run ${r.runId}, ${r.events} events replayed, ingested in ${r.ingestSeconds.toFixed(1)} s`,
      columns: [
        { key: 'name', header: 'check' },
        { key: 'posthog', header: 'posthog' },
        { key: 'local', header: 'local' },
        { key: 'status', header: 'status', value: (x: (typeof r.checks)[number]) => (x.ok ? 'same' : `${x.differences.length}+ differences`) },
      ],
      rows: r.checks,
    },
  };
}
