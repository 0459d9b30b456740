/**
 * Diagnostics for people tuning or debugging the tool, switched on by one variable:
 *   DISCOVER_METRICS_DEBUG=funnel,load,sql,stack   (or `all`)
 *   funnel  phase and per-funnel timings of the local funnel engine
 *   load    phase timings of `load`
 *   sql     the SQL the funnel scan and the load run
 *   stack   a stack trace with internal errors
 * Lines go to stderr as `[topic] message`; nothing is printed when the variable is unset.
 */
export const DEBUG_ENV = 'DISCOVER_METRICS_DEBUG';
export const DEBUG_TOPICS = ['funnel', 'load', 'sql', 'stack'] as const;
export type DebugTopic = (typeof DEBUG_TOPICS)[number];

let parsedFrom: string | undefined;
let topics = new Set<string>();

/** Whether a topic is on (read from the environment each time it changes, so tests can set it). */
export function debugEnabled(topic: DebugTopic, env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[DEBUG_ENV] ?? '';
  if (v !== parsedFrom) {
    parsedFrom = v;
    topics = new Set(v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
  }
  return topics.has(topic) || topics.has('all') || topics.has('1');
}

/** Write one diagnostic line for a topic, if it is on. Pass a function to build costly text only when shown. */
export function debug(topic: DebugTopic, message: string | (() => string)): void {
  if (!debugEnabled(topic)) return;
  process.stderr.write(`[${topic}] ${typeof message === 'function' ? message() : message}\n`);
}
