/**
 * An engine that notes every query before its inner engine answers it. `--print-query` of a report
 * whose later queries depend on earlier answers (the digest) records them while the report runs.
 * It answers to the name `posthog`, so the logic takes the path it takes on PostHog (where it sends
 * fewer, smaller queries than a local scan would share), with the answers of the inner engine.
 */
import type { Engine, PostHogQuery } from './types.js';

export function recordingEngine(inner: Engine, sent: PostHogQuery[]): Engine {
  return {
    name: 'posthog',
    run: (query, ctx) => {
      sent.push(query);
      return inner.run(query, ctx);
    },
    runMany: (queries, ctx) => {
      sent.push(...queries);
      return inner.runMany(queries, ctx);
    },
    close: () => inner.close(),
  };
}
