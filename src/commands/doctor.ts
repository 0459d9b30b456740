/** `doctor`: the taxonomy's names checked against the project's definitions. */
import { doctor, type DoctorRow } from '../discover/doctor.js';
import type { Definitions } from '../store/definitions.js';
import type { CommandResult } from '../output/report.js';
import { openEngine, type CommandContext, type QueryOptions } from './context.js';

export interface DoctorOptions {
  missing: boolean;
  query: QueryOptions;
}

async function definitionsOf(o: DoctorOptions, c: CommandContext): Promise<Definitions> {
  if (o.query.engine === 'posthog') {
    const { postHogDefinitions } = await import('../engines/posthog/definitions.js');
    const engine = (await openEngine(o.query, c)) as import('../engines/posthog/index.js').PostHogEngine;
    try {
      return await postHogDefinitions(engine.client);
    } finally {
      await engine.close();
    }
  }
  const { Store } = await import('../store/store.js');
  const { storeDefinitions } = await import('../store/definitions.js');
  const store = await Store.open(c.store, { readOnly: true });
  try {
    return await storeDefinitions(store);
  } finally {
    await store.close();
  }
}

export async function doctorCommand(o: DoctorOptions, c: CommandContext): Promise<CommandResult> {
  const engine = o.query.engine;
  const r = doctor(await definitionsOf(o, c), engine);
  const rows = o.missing ? r.checks.filter((x) => !x.found) : r.checks;
  return {
    json: { engine, ...r },
    tables: [
      {
        title: `Taxonomy check against the ${engine === 'posthog' ? "PostHog project's event and property definitions" : 'local store'}`,
        columns: [
          { key: 'found', header: '', text: (x: DoctorRow) => (x.found ? 'ok' : 'MISSING') },
          { key: 'kind', header: 'Kind' },
          { key: 'name', header: 'Name' },
          { key: 'path', header: 'queries/taxonomy.json' },
          { key: 'documented', header: 'Documented', text: (x: DoctorRow) => (x.documented ? 'yes' : '') },
          { key: 'volume', header: 'Events', align: 'right', text: (x: DoctorRow) => (x.volume === null ? '' : x.volume.toLocaleString('en-US')) },
          { key: 'nearMisses', header: 'Did you mean', text: (x: DoctorRow) => x.nearMisses.join(', ') },
          { key: 'lastSeenAt', header: 'Last seen', dataOnly: true, text: (x: DoctorRow) => x.lastSeenAt ?? '' },
        ],
        rows,
        notes: [
          `${r.found} of ${r.checks.length} names found; ${r.missing} never occur in this project.`,
          ...(r.unknownDiscoverEvents.length ? [`Discover events the taxonomy does not name: ${r.unknownDiscoverEvents.join(', ')}.`] : []),
          'Fix a missing name in queries/taxonomy.json (a near-miss is usually the project’s spelling); undocumented keys are guesses until checked.',
        ],
      },
    ],
  };
}
