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
  seconds: number;
  eventsPerSecond: number;
  distinctIds?: number;
  eventCounts?: Record<string, number>;
  lastError?: string;
  /** The run was stopped by its signal (Ctrl-C) before sending everything. */
  interrupted?: boolean;
}

type Message = { distinctId: string; event: string; uuid: string; timestamp: Date; properties: Record<string, unknown> };

/** posthog-node with per-uuid acknowledgement tracking and a way to empty its queue. */
export class TrackingPostHog extends PostHog {
  readonly acked = new Set<string>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  protected override async sendBatch(batchMessages: any[], ...rest: any[]): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (super.sendBatch as (...a: any[]) => Promise<void>).call(this, batchMessages, ...rest);
    for (const m of batchMessages) if (m && typeof m.uuid === 'string') this.acked.add(m.uuid);
  }
  queueLength(): number {
    const q = this.getPersistedProperty('queue' as never) as unknown[] | undefined;
    return q ? q.length : 0;
  }
  clearQueue(): void {
    this.setPersistedProperty('queue' as never, [] as never);
  }
  /**
   * The SDK raises maxBatchSize to flushAt; replay sets flushAt above the chunk size (no
   * background flushes: every flush is awaited here), so set the request size explicitly.
   * A 413 still halves it inside the SDK.
   */
  setBatchSize(n: number): void {
    (this as unknown as { maxBatchSize: number }).maxBatchSize = n;
  }
  /**
   * Queue a replayed event. Replayed events carry everything already (uuid, timestamp, person
   * properties) and use no context, flags or before_send, so they skip capture()'s per-event
   * async preparation (two promises and four object copies per event, the replay's main CPU
   * cost) and go straight into the SDK queue with the properties capture() would add ($lib,
   * $lib_version, $is_server; $geoip_disable is added by the queue). Batching, flush, retries,
   * 413 halving and the wire format are the SDK's own. Falls back to capture() if the pinned
   * SDK's internals ever differ.
   */
  captureReplayed(m: Message): void {
    const self = this as unknown as {
      enqueue?: (type: string, message: unknown, options: unknown) => void;
      getCommonEventProperties?: () => Record<string, unknown>;
    };
    if (typeof self.enqueue !== 'function' || typeof self.getCommonEventProperties !== 'function') {
      this.capture(m);
      return;
    }
    this.common ??= self.getCommonEventProperties.call(this);
    self.enqueue.call(
      this,
      'capture',
      { distinctId: m.distinctId, event: m.event, properties: { ...m.properties, ...this.common } },
      { timestamp: m.timestamp, uuid: m.uuid, disableGeoip: true },
    );
  }
  private common: Record<string, unknown> | undefined;
}

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

  const target = targetId(host, token);
  let startAt = 0;
  if (o.checkpoint) {
    const cp = readCheckpoint(o.checkpoint);
    if (cp && !o.resume && cp.done > 0) {
      throw new UsageError(
        `--checkpoint ${o.checkpoint} already records ${cp.done}/${cp.total} events sent`,
        'Pass --resume to send the rest, or remove the checkpoint file to start over.',
      );
    }
    if (cp && o.resume) {
      const why = checkpointMismatch(cp, inputs, target);
      if (why) throw new UsageError(`--resume: the checkpoint ${o.checkpoint} does not match this replay: ${why}`);
      startAt = Math.min(cp.done, scan.events);
      if (!o.quiet) log(`resuming: ${startAt}/${scan.events} events were acknowledged before`);
    }
  } else if (o.resume) {
    throw new UsageError('--resume needs --checkpoint FILE');
  }

  const batchSize = Math.max(1, o.batchSize ?? 1000);
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
      fetchRetryCount: o.sdkRetries ?? 3,
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
  let stopped = false;
  let chunk: Message[] = [];

  /** Send one chunk until every event is acknowledged or retries run out; returns the unacknowledged count. */
  const sendChunk = async (client: TrackingPostHog, msgs: Message[]): Promise<number> => {
    let pending = msgs;
    let lastStatus: number | undefined;
    const off = client.on('error', (e: unknown) => {
      requestErrors++;
      lastError = errText(e);
      lastErrorDetail = describeError(e, [token]).then((t) => (lastError = t));
      lastStatus = (e as { status?: number }).status;
    });
    try {
      for (let round = 0; ; round++) {
        lastStatus = undefined;
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
        if (round >= retries || lastStatus === 400 || lastStatus === 413 || stopped) return pending.length;
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
  // Chunks go out up to `concurrency` at a time; the checkpoint advances over the contiguous
  // prefix of acknowledged chunks only, so a resume re-sends at most the chunks in flight.
  const finished = new Map<number, number>(); // chunk number -> size, acknowledged but not yet contiguous
  let nextChunkNo = 0;
  let contiguousNo = 0;
  const inFlight = new Set<Promise<void>>();
  const idle = [...pool];

  const launch = (msgs: Message[]): Promise<void> => {
    const no = nextChunkNo++;
    const client = idle.pop()!;
    const p = sendChunk(client, msgs)
      .then((left) => {
        if (left > 0) {
          failed += left;
          sent += msgs.length - left;
          stopped = true;
          return;
        }
        sent += msgs.length;
        finished.set(no, msgs.length);
        let advanced = false;
        while (finished.has(contiguousNo)) {
          cp.done += finished.get(contiguousNo)!;
          finished.delete(contiguousNo);
          contiguousNo++;
          advanced = true;
        }
        if (advanced) {
          cp.updatedAt = new Date().toISOString();
          if (o.checkpoint) writeCheckpoint(o.checkpoint, cp);
          progress.update(cp.done);
        }
      })
      .finally(() => {
        idle.push(client);
        inFlight.delete(p);
      });
    inFlight.add(p);
    return p;
  };

  const dispatch = async (): Promise<void> => {
    if (!chunk.length) return;
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (stopped) return;
    const msgs = chunk;
    chunk = [];
    void launch(msgs).catch(() => undefined);
  };

  try {
    progress.update(startAt);
    const source: Iterable<FixtureEvent> | AsyncIterable<FixtureEvent> = scan.kept ?? readFixtures(inputs);
    scan.kept = undefined;
    for await (const ev of source) {
      if (index++ < startAt) continue;
      chunk.push(toMessage(ev, marker, o.markerValue ?? true));
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
    alreadyDone: startAt,
    sent,
    failed,
    notSent: scan.events - startAt - sent - failed,
    requestErrors,
    resendRounds,
    seconds,
    eventsPerSecond: seconds > 0 ? sent / seconds : 0,
    lastError,
    interrupted: !!o.signal?.aborted && scan.events - startAt - sent - failed > 0,
  };
  if (o.checkpoint && !stopped) writeCheckpoint(o.checkpoint, cp);
  return summary;
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
