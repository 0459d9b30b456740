/**
 * Replay fixture events into a PostHog project (or the sandbox) with posthog-node, accounting for
 * every event (posthog-api.md §1.3–1.4):
 *   - events go out in chunks no larger than the SDK queue (so nothing is dropped on overflow),
 *     and each chunk is flushed and awaited before the next;
 *   - acknowledgements are tracked per uuid at the batch level (a 2xx for the request that carried
 *     it), failures are counted from `on('error')`;
 *   - what was not acknowledged is re-sent with the same uuids (capture deduplicates on uuid);
 *   - with --checkpoint, progress is saved atomically after each acknowledged chunk so --resume
 *     continues after a crash: nothing lost, nothing doubled.
 * Each event keeps its uuid and timestamp ($ignore_sent_at), carries the synthetic marker
 * property, and its person_properties become $set.
 */
import { PostHog } from 'posthog-node';
import { TrackingPostHog, type Message } from './tracking-client.js';

export { TrackingPostHog } from './tracking-client.js';
import { FindingError, HttpError, UsageError, redactSecrets } from '../errors.js';
import { taxonomy } from '../events/taxonomy.js';
import { isLoopbackHost, maskSecret, normalizeHost } from '../config/posthog.js';
import { describeInputs, readFixtures, type FixtureEvent, type InputFile } from './input.js';
import { checkpointMismatch, readCheckpoint, targetId, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { createProgress, type Progress } from '../output/progress.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ReplayOptions {
  files: readonly string[];
  host?: string;
  projectApiKey?: string;
  historical?: boolean;
  dryRun?: boolean;
  /** Allow a non-loopback host. */
  yes?: boolean;
  checkpoint?: string;
  resume?: boolean;
  /** Events per HTTP request (posthog-node maxBatchSize). Default 1000. */
  batchSize?: number;
  /** Events captured before each awaited flush (≤ the SDK queue). Default 10000. */
  chunkSize?: number;
  /** Chunks in flight at once (each its own posthog-node client). Default 3. */
  concurrency?: number;
  /** Re-send rounds for events not acknowledged after the SDK's own retries. Default 5. */
  retries?: number;
  /** posthog-node fetchRetryCount / fetchRetryDelay / requestTimeout. */
  sdkRetries?: number;
  retryDelayMs?: number;
  requestTimeoutMs?: number;
  /** Compress request bodies; default: yes, except to a loopback host. */
  gzip?: boolean;
  /** Stop sending new chunks (Ctrl-C): in-flight chunks finish, the checkpoint stays exact. */
  signal?: AbortSignal;
  /**
   * Ask PostHog's query API which uuids it already stored before re-sending events whose request
   * failed ambiguously (a timeout, a reset connection: the events may be stored). Without it such
   * events are re-sent, and PostHog counts a re-sent event twice until a background merge.
   */
  verify?: UuidVerifier;
  /** Ingestion lag to wait before asking (ms). Default 0 to a loopback host, else 30 s. */
  ingestionLagMs?: number;
  /** Value of the synthetic marker property (default true; smoke uses a run id to find its own events). */
  markerValue?: string | true;
  /** Progress and notes. */
  tty?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  progressWrite?: (s: string) => void;
}

export interface ReplaySummary {
  dryRun: boolean;
  host?: string;
  files: number;
  events: number;
  /** Events acknowledged in an earlier run (from the checkpoint). */
  alreadyDone: number;
  /** Events acknowledged in this run. */
  sent: number;
  /** Events that could not be sent after all retries. */
  failed: number;
  /** Events not attempted because the replay stopped at a failed chunk. */
  notSent: number;
  /** Failed flushes reported by posthog-node's on('error') after its own retries (their events were re-sent). */
  requestErrors: number;
  /** Re-send rounds used. */
  resendRounds: number;
  /** Events of unanswered requests that PostHog already held (not re-sent). */
  verifiedStored?: number;
  seconds: number;
  eventsPerSecond: number;
  distinctIds?: number;
  eventCounts?: Record<string, number>;
  lastError?: string;
  /** The run was stopped by its signal (Ctrl-C) before sending everything. */
  interrupted?: boolean;
}

/** Which of these uuids does the project already hold? (`from`/`to`: the events' timestamp range) */
export type UuidVerifier = (uuids: string[], from: Date, to: Date) => Promise<Set<string>>;

export function toMessage(ev: FixtureEvent, marker: string, markerValue: string | true = true): Message {
  const properties: Record<string, unknown> = { ...ev.properties, [marker]: markerValue, $ignore_sent_at: true };
  if (ev.person_properties && Object.keys(ev.person_properties).length) {
    const own = typeof properties.$set === 'object' && properties.$set !== null ? (properties.$set as Record<string, unknown>) : {};
    properties.$set = { ...ev.person_properties, ...own };
  }
  // an ISO string keeps sub-millisecond digits on the wire (posthog-node normalises it to UTC)
  return { distinctId: ev.distinct_id, event: ev.event, uuid: ev.uuid, timestamp: ev.timestamp as unknown as Date, properties };
}


function errText(e: unknown): string {
  if (e instanceof Error) {
    const st = (e as { status?: number }).status;
    return st ? `HTTP ${st}` : ((e as { error?: Error }).error?.message ?? e.message);
  }
  return String(e);
}

/** errText plus the server's own explanation (PostHog's `detail`) when the answer had a body. */
async function describeError(e: unknown, secrets: string[]): Promise<string> {
  const base = errText(e);
  const status = (e as { status?: number }).status;
  if (!status) return base;
  try {
    const text = String(await Promise.race([(e as { text: Promise<string> | string }).text, new Promise<string>((r) => setTimeout(() => r(''), 2000).unref())]));
    let detail = text.trim().slice(0, 300);
    try {
      const j = JSON.parse(text) as { detail?: unknown };
      if (typeof j.detail === 'string') detail = j.detail;
    } catch {
      /* not JSON: keep the text */
    }
    return detail ? redactSecrets(`${base}: ${detail}`, secrets) : base;
  } catch {
    return base;
  }
}

/** uuids per verification query. */
const VERIFY_BATCH = 500;

/** Events kept in memory between the validation pass and sending (else the files are read twice). */
const KEEP_IN_MEMORY = 250_000;

/** Validate all inputs (file:line errors) and count them, without sending. */
export async function scanFixtures(
  files: readonly InputFile[],
  keep = 0,
): Promise<{ events: number; distinctIds: number; eventCounts: Record<string, number>; kept?: FixtureEvent[] }> {
  let events = 0;
  const ids = new Set<string>();
  const counts: Record<string, number> = {};
  let kept: FixtureEvent[] | undefined = keep > 0 ? [] : undefined;
  for await (const ev of readFixtures(files)) {
    events++;
    ids.add(ev.distinct_id);
    counts[ev.event] = (counts[ev.event] ?? 0) + 1;
    if (kept) {
      if (kept.length < keep) kept.push(ev);
      else kept = undefined;
    }
  }
  return { events, distinctIds: ids.size, eventCounts: counts, kept };
}

export async function replay(o: ReplayOptions): Promise<ReplaySummary> {
  const log = o.log ?? ((l: string) => void process.stderr.write(l + '\n'));
  if (!o.files.length) throw new UsageError('replay needs at least one FILE (PostHog-shaped JSONL, .gz ok)');
  const inputs = describeInputs(o.files);
  const t0 = Date.now();
  const scan = await scanFixtures(inputs, o.dryRun ? 0 : KEEP_IN_MEMORY);

  if (o.dryRun) {
    return {
      dryRun: true,
      files: inputs.length,
      events: scan.events,
      alreadyDone: 0,
      sent: 0,
      failed: 0,
      notSent: scan.events,
      requestErrors: 0,
      resendRounds: 0,
      seconds: (Date.now() - t0) / 1000,
      eventsPerSecond: 0,
      distinctIds: scan.distinctIds,
      eventCounts: scan.eventCounts,
    };
  }

  if (!o.host) throw new UsageError('replay needs --host (env POSTHOG_HOST), e.g. http://127.0.0.1:8010 for the sandbox');
  if (!o.projectApiKey) throw new UsageError('replay needs --project-api-key (env POSTHOG_PROJECT_API_KEY), the project token phc_...');
  const host = normalizeHost(o.host);
  const token = o.projectApiKey;
  if (!isLoopbackHost(host)) {
    log(`replay will write ${scan.events} events to the project at ${host} (project token ${maskSecret(token)})`);
    if (!o.yes) {
      throw new UsageError(
        `refusing to write to the non-local host ${host} without --yes`,
        'Check the host and token above are a sandbox/test project, then re-run with --yes.',
      );
    }
  }

  await probeHost(host);
  const target = targetId(host, token);
  let startAt = 0;
  /** Ranges [from, to) past startAt acknowledged before (from the checkpoint). */
  let skip: [number, number][] = [];
  if (o.checkpoint) {
    const cp = readCheckpoint(o.checkpoint);
    if (cp && !o.resume && cp.done > 0) {
      throw new UsageError(
        `--checkpoint ${o.checkpoint} already records ${cp.done}/${cp.total} events sent`,
        'Pass --resume to send the rest, or remove the checkpoint file to start over.',
      );
    }
    if (!cp && o.resume && !o.quiet) log(`--resume: no checkpoint at ${o.checkpoint}: nothing was recorded before, so every event is sent`);
    if (cp && o.resume) {
      const why = checkpointMismatch(cp, inputs, target);
      if (why) throw new UsageError(`--resume: the checkpoint ${o.checkpoint} does not match this replay: ${why}`);
      startAt = Math.min(cp.done, scan.events);
      skip = (cp.partial ?? []).filter(([a, b]) => b > a && a >= startAt);
      const before = startAt + skip.reduce((n, [a, b]) => n + Math.min(b, scan.events) - a, 0);
      if (!o.quiet) log(`resuming: ${before}/${scan.events} events were acknowledged before`);
    }
  } else if (o.resume) {
    throw new UsageError('--resume needs --checkpoint FILE');
  }

  for (const [name, v] of [
    ['--batch-size', o.batchSize],
    ['--chunk-size', o.chunkSize],
    ['--concurrency', o.concurrency],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UsageError(`${name}: '${v}' must be a positive integer`);
  }
  const batchSize = o.batchSize ?? 1000;
  const chunkSize = Math.max(batchSize, o.chunkSize ?? 10_000);
  const retries = Math.max(0, o.retries ?? 5);
  const marker = taxonomy().synthetic.markerProperty;

  const concurrency = Math.max(1, Math.min(16, o.concurrency ?? 3));

  // pin the transport to /batch/ whatever POSTHOG_CAPTURE_MODE says
  const savedMode = process.env.POSTHOG_CAPTURE_MODE;
  delete process.env.POSTHOG_CAPTURE_MODE;
  const newClient = (): TrackingPostHog => {
    const c = new TrackingPostHog(token, {
      host,
      flushAt: chunkSize + 1,
      maxQueueSize: chunkSize + 1,
      maxBatchSize: batchSize,
      flushInterval: 0,
      // with a verifier every retry goes through replay, which asks before re-sending what may be stored
      fetchRetryCount: o.verify ? 0 : (o.sdkRetries ?? 3),
      fetchRetryDelay: o.retryDelayMs ?? 3000,
      requestTimeout: o.requestTimeoutMs ?? 10_000,
      historicalMigration: !!o.historical,
      // gzip by default, except to a loopback host (the sandbox) where it only costs CPU on both ends
      disableCompression: o.gzip === undefined ? isLoopbackHost(host) : !o.gzip,
      disableGeoip: true,
      persistence: 'memory',
    } as ConstructorParameters<typeof PostHog>[1]);
    c.setBatchSize(batchSize);
    return c;
  };
  // one client per chunk in flight: each has its own queue and acknowledgement set
  const pool: TrackingPostHog[] = [];
  try {
    for (let i = 0; i < concurrency; i++) pool.push(newClient());
  } finally {
    if (savedMode !== undefined) process.env.POSTHOG_CAPTURE_MODE = savedMode;
  }

  let requestErrors = 0;
  let lastError: string | undefined;
  let lastErrorDetail: Promise<unknown> = Promise.resolve();
  let authFailure: number | undefined;

  const progress: Progress = createProgress({
    label: 'replay',
    unit: 'events',
    total: scan.events,
    start: startAt,
    tty: !!o.tty,
    quiet: !!o.quiet,
    write: o.progressWrite,
  });
  const cp: Checkpoint = {
    version: 1,
    target,
    inputs: inputs.map((f) => ({ ...f })),
    total: scan.events,
    done: startAt,
    updatedAt: new Date().toISOString(),
  };

  let index = 0;
  let sent = 0;
  let failed = 0;
  let resendRounds = 0;
  let verified = 0;
  let skipped = 0;
  let stopped = false;
  let chunk: Message[] = [];

  const lagMs = o.ingestionLagMs ?? (isLoopbackHost(host) ? 0 : 30_000);
  let warnedResend = false;
  /** After an ambiguous failure: the events PostHog does not hold yet (all of them without a verifier). */
  const warnBlindResend = (): void => {
    if (!warnedResend && !o.quiet) {
      log(
        'replay: a request got no answer (timeout or reset), so its events may be stored already; they are re-sent, and PostHog counts a re-sent event twice until it merges duplicates. ' +
          'Pass --personal-api-key and --project-id so replay asks PostHog which it holds first.',
      );
    }
    warnedResend = true;
  };
  const unstored = async (msgs: Message[]): Promise<Message[]> => {
    if (!o.verify) return msgs;
    if (lagMs > 0) {
      if (!o.quiet) log(`replay: a request got no answer; asking PostHog which of its ${msgs.length} events it holds in ${(lagMs / 1000).toFixed(0)} s (ingestion lag)`);
      await sleep(lagMs);
    }
    const have = new Set<string>();
    for (let i = 0; i < msgs.length; i += VERIFY_BATCH) {
      const part = msgs.slice(i, i + VERIFY_BATCH);
      const ts = part.map((m) => Date.parse(m.timestamp as unknown as string));
      for (const u of await o.verify(part.map((m) => m.uuid), new Date(Math.min(...ts)), new Date(Math.max(...ts)))) have.add(u);
    }
    verified += have.size;
    return msgs.filter((m) => !have.has(m.uuid));
  };

  /** Send one chunk until every event is acknowledged or retries run out; returns the unacknowledged count. */
  const sendChunk = async (client: TrackingPostHog, msgs: Message[]): Promise<number> => {
    let pending = msgs;
    let lastStatus: number | undefined;
    let ambiguous = false;
    const off = client.on('error', (e: unknown) => {
      requestErrors++;
      lastError = errText(e);
      lastErrorDetail = describeError(e, [token]).then((t) => (lastError = t));
      lastStatus = (e as { status?: number }).status;
      // no HTTP answer (timeout, reset): the request may have been stored
      if (lastStatus === undefined) {
        ambiguous = true;
        if (!o.verify) warnBlindResend();
      }
    });
    try {
      for (let round = 0; ; round++) {
        lastStatus = undefined;
        ambiguous = false;
        for (const m of pending) client.captureReplayed(m);
        // flush drains batch by batch and stops at the first failed one; keep flushing until the
        // queue is empty (network failures stay queued, HTTP failures are dropped by the SDK)
        const maxFlushes = Math.ceil(pending.length / batchSize) * 2 + 2;
        for (let i = 0; i < maxFlushes; i++) {
          try {
            await client.flush();
          } catch {
            /* counted by on('error') */
          }
          if (client.queueLength() === 0) break;
          // an unanswered batch stays queued; flushing again would re-send it blindly: ask first
          if (ambiguous && o.verify) break;
        }
        client.clearQueue();
        pending = pending.filter((m) => !client.acked.has(m.uuid));
        for (const m of msgs) client.acked.delete(m.uuid);
        if (pending.length === 0) return 0;
        if (lastStatus === 401 || lastStatus === 403) {
          authFailure = lastStatus;
          return pending.length;
        }
        // 400 and 413 are not transient: re-sending the same events cannot help
        if (round >= retries || lastStatus === 400 || lastStatus === 413 || stopped || o.signal?.aborted) return pending.length;
        if (ambiguous) {
          pending = await unstored(pending);
          if (pending.length === 0) return 0;
        }
        resendRounds++;
        await lastErrorDetail;
        const wait = Math.min(30_000, (o.retryDelayMs ?? 3000) * 2 ** round);
        if (!o.quiet) log(`replay: ${pending.length} events of a chunk not acknowledged (${lastError ?? 'no answer'}); re-sending in ${(wait / 1000).toFixed(1)} s`);
        await sleep(wait);
      }
    } finally {
      off();
    }
  };

  // Hand-written rather than p-limit: reading waits for a free slot (p-limit would queue the whole input).
  // Chunks go out up to `concurrency` at a time. The checkpoint's `done` advances over the
  // contiguous prefix of acknowledged chunks; `partial` adds what in-flight chunks have had
  // acknowledged so far (their acknowledged prefix, updated per batch) and the ranges a resumed
  // run skipped, so a kill re-sends at most the batch each worker had on the wire.
  interface ChunkState {
    from: number;
    to: number;
    msgs: Message[];
    /** event index of each message */
    idx: number[];
    acked: Set<string>;
  }
  const finished = new Map<number, number>(); // chunk number -> `to`, acknowledged but not yet contiguous
  const live = new Map<number, ChunkState>();
  let nextChunkNo = 0;
  let contiguousNo = 0;
  const inFlight = new Set<Promise<void>>();
  const idle = [...pool];

  const partialRanges = (): [number, number][] => {
    const out: [number, number][] = skip.filter(([, b]) => b > cp.done);
    for (const [no, to] of finished) out.push([live.get(no)?.from ?? to, to]);
    for (const [no, c] of live) {
      if (finished.has(no)) continue;
      let i = 0;
      while (i < c.msgs.length && c.acked.has(c.msgs[i]!.uuid)) i++;
      const end = i < c.msgs.length ? c.idx[i]! : c.to;
      if (end > c.from) out.push([c.from, end]);
    }
    return out.filter(([a, b]) => b > a && b > cp.done).sort((x, y) => x[0] - y[0]);
  };
  const saveCheckpoint = (): void => {
    if (!o.checkpoint) return;
    cp.partial = partialRanges();
    cp.updatedAt = new Date().toISOString();
    writeCheckpoint(o.checkpoint, cp);
  };

  const launch = (state: ChunkState): Promise<void> => {
    const no = nextChunkNo++;
    live.set(no, state);
    const client = idle.pop()!;
    client.onAck = (uuids) => {
      for (const u of uuids) state.acked.add(u);
      saveCheckpoint();
    };
    const msgs = state.msgs;
    const p = sendChunk(client, msgs)
      .then((left) => {
        if (left > 0) {
          failed += left;
          sent += msgs.length - left;
          stopped = true;
          return;
        }
        sent += msgs.length;
        for (const m of msgs) state.acked.add(m.uuid); // verified as stored counts too
        finished.set(no, state.to);
        while (finished.has(contiguousNo)) {
          cp.done = finished.get(contiguousNo)!;
          finished.delete(contiguousNo);
          live.delete(contiguousNo);
          contiguousNo++;
        }
        saveCheckpoint();
        progress.update(cp.done);
      })
      .finally(() => {
        client.onAck = undefined;
        idle.push(client);
        inFlight.delete(p);
      });
    inFlight.add(p);
    return p;
  };

  let chunkFrom = startAt;
  let chunkIdx: number[] = [];
  const dispatch = async (): Promise<void> => {
    if (!chunk.length) return;
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (stopped) return;
    const state: ChunkState = { from: chunkFrom, to: index, msgs: chunk, idx: chunkIdx, acked: new Set() };
    chunk = [];
    chunkIdx = [];
    chunkFrom = index;
    void launch(state).catch(() => undefined);
  };

  try {
    progress.update(startAt);
    const source: Iterable<FixtureEvent> | AsyncIterable<FixtureEvent> = scan.kept ?? readFixtures(inputs);
    scan.kept = undefined;
    for await (const ev of source) {
      const at = index++;
      if (at < startAt) continue;
      if (skip.some(([a, b]) => at >= a && at < b)) {
        skipped++;
        continue;
      }
      chunk.push(toMessage(ev, marker, o.markerValue ?? true));
      chunkIdx.push(at);
      if (chunk.length >= chunkSize) {
        await dispatch();
        if (stopped || o.signal?.aborted) break;
      }
    }
    if (!stopped && !o.signal?.aborted) await dispatch();
    await Promise.all([...inFlight]);
  } finally {
    await Promise.allSettled([...inFlight]);
    progress.done(cp.done);
    for (const c of pool) {
      c.clearQueue();
      await c.shutdown(1000).catch(() => undefined);
    }
  }
  if (authFailure !== undefined) {
    throw new HttpError(
      authFailure,
      `the capture endpoint at ${host} rejected the project API key (HTTP ${authFailure}); nothing more was sent. ` +
        'Check --project-api-key (env POSTHOG_PROJECT_API_KEY): it is the project token (phc_...), not a personal API key.',
    );
  }
  await lastErrorDetail;
  const seconds = (Date.now() - t0) / 1000;
  const summary: ReplaySummary = {
    dryRun: false,
    host,
    files: inputs.length,
    events: scan.events,
    alreadyDone: startAt + skipped,
    sent,
    failed,
    notSent: scan.events - startAt - skipped - sent - failed,
    requestErrors,
    resendRounds,
    verifiedStored: verified,
    seconds,
    eventsPerSecond: seconds > 0 ? sent / seconds : 0,
    lastError,
    interrupted: !!o.signal?.aborted && scan.events - startAt - skipped - sent - failed > 0,
  };
  if (o.checkpoint && !stopped) writeCheckpoint(o.checkpoint, cp);
  return summary;
}

/**
 * Fail fast when nothing listens at the capture host (connection refused, unknown name): the
 * SDK's retries and replay's re-send rounds would otherwise spend minutes on a dead host.
 * Any HTTP answer, even an error status, means the host is up.
 */
export async function probeHost(host: string, attempts = 3): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(host, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
      await r.arrayBuffer().catch(() => undefined);
      return;
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      const dead = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
      if (!dead) return; // a timeout or reset is for the replay's own retries to judge
      if (i + 1 >= attempts) throw new HttpError(0, `cannot reach ${host} (${code}): is the host right, and is it up? Nothing was sent.`);
      await sleep(250 * (i + 1));
    }
  }
}

/** Throw a FindingError (exit 1) when a replay could not send everything. */
export function assertComplete(s: ReplaySummary): void {
  if (s.dryRun) return;
  if (s.failed > 0 || s.notSent > 0) {
    throw new FindingError(
      `replay ${s.interrupted ? 'interrupted' : 'incomplete'}: ${s.sent} sent, ${s.failed} failed after retries, ${s.notSent} not attempted${s.lastError ? ` (last error: ${s.lastError})` : ''}`,
      'Fix the cause and re-run with --checkpoint FILE --resume to send the rest (re-sent uuids are deduplicated).',
    );
  }
}
