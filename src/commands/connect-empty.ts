/** Shared by the Connect reports: say on stderr why a report is all zeros. */
import type { DateRange, QueryContext } from '../engines/types.js';
import type { CommandContext } from './context.js';

/**
 * Nothing active in the range. (An empty local store never gets here: the local engine refuses it
 * with a hint to load or seed events.) Say so on stderr so an all-zero table is not mistaken.
 */
export function explainEmpty(c: CommandContext, ctx: QueryContext, range: DateRange): void {
  c.out.warn(
    `no Teleport Connect installation sent events between ${range.date_from} and ${range.date_to ?? 'today'} (${ctx.timezone}); ` +
      'check --from/--to, or whether Connect events were loaded',
  );
}
