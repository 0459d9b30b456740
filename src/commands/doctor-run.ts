/** The `doctor` action: read the project's definitions → compare with the taxonomy → render. */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { queryOptionsOf } from '../cli/query-options.js';
import { doctor, type DoctorRow } from '../discover/doctor.js';
import type { Definitions } from '../store/definitions.js';
import type { PostHogEngine } from '../engines/posthog/index.js';
import { emit } from '../output/emit.js';

async function definitionsOf(command: Command, engine: 'local' | 'posthog'): Promise<Definitions> {
  if (engine === 'posthog') {
    const { createPostHogEngineFromOptions } = await import('../engines/posthog/index.js');
    const { postHogDefinitions } = await import('../engines/posthog/definitions.js');
    const e = (await createPostHogEngineFromOptions(command.optsWithGlobals())) as PostHogEngine;
    return postHogDefinitions(e.client);
  }
  const { Store } = await import('../store/store.js');
  const { storeDefinitions } = await import('../store/definitions.js');
  const store = await Store.open(globalsOf(command).store, { readOnly: true });
  try {
    return await storeDefinitions(store);
  } finally {
    await store.close();
  }
}

export async function doctorCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, unknown>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const r = doctor(await definitionsOf(command, q.engine), q.engine);
  const rows = o.missing ? r.checks.filter((c) => !c.found) : r.checks;
  emit(g, {
    json: { engine: q.engine, ...r },
    table: {
      title: `Taxonomy check against the ${q.engine === 'posthog' ? "PostHog project's event and property definitions" : 'local store'}`,
      columns: [
        { key: 'found', header: '', text: (c: DoctorRow) => (c.found ? 'ok' : 'MISSING') },
        { key: 'kind', header: 'Kind' },
        { key: 'name', header: 'Name' },
        { key: 'path', header: 'queries/taxonomy.json' },
        { key: 'documented', header: 'Documented', text: (c: DoctorRow) => (c.documented ? 'yes' : '') },
        { key: 'volume', header: 'Events', align: 'right', text: (c: DoctorRow) => (c.volume === null ? '' : c.volume.toLocaleString('en-US')) },
        { key: 'nearMisses', header: 'Did you mean', text: (c: DoctorRow) => c.nearMisses.join(', ') },
        { key: 'lastSeenAt', header: 'Last seen', dataOnly: true, text: (c: DoctorRow) => c.lastSeenAt ?? '' },
      ],
      rows,
      notes: [
        `${r.found} of ${r.checks.length} names found; ${r.missing} never occur in this project.`,
        ...(r.unknownDiscoverEvents.length ? [`Discover events the taxonomy does not name: ${r.unknownDiscoverEvents.join(', ')}.`] : []),
        'Fix a missing name in queries/taxonomy.json (a near-miss is usually the project’s spelling); undocumented keys are guesses until checked.',
      ],
    },
  });
}
