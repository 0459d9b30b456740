/** posthog-node with per-batch acknowledgements, for replay (see the class comment). */
import { PostHog } from 'posthog-node';

/** A replayed event as handed to the SDK queue. */
export type Message = { distinctId: string; event: string; uuid: string; timestamp: Date; properties: Record<string, unknown> };

/**
 * posthog-node with per-uuid acknowledgement tracking and a way to empty its queue.
 * Why not only the documented API: posthog-node's public 'flush' event fires once per flush and
 * not at all when any batch of it failed, so it cannot say which uuids a partly failed flush
 * delivered; `sendBatch` (one call per HTTP request) can. The queue length/clear and the request
 * size are not exposed either (the constructor raises maxBatchSize to flushAt, and replay keeps
 * flushAt above the chunk so that no background flush races the awaited ones). These three touch
 * points are exercised against the pinned posthog-node by test/replay/wire.test.ts (batch size, acks).
 */
export class TrackingPostHog extends PostHog {
  readonly acked = new Set<string>();
  /** Called after each acknowledged batch with its uuids (replay checkpoints per batch). */
  onAck: ((uuids: string[]) => void) | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  protected override async sendBatch(batchMessages: any[], ...rest: any[]): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (super.sendBatch as (...a: any[]) => Promise<void>).call(this, batchMessages, ...rest);
    const uuids: string[] = [];
    for (const m of batchMessages) if (m && typeof m.uuid === 'string') uuids.push(m.uuid);
    for (const u of uuids) this.acked.add(u);
    this.onAck?.(uuids);
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
      // the fixture's own $lib/$lib_version (the SDK that sent the original event) win over posthog-node's
      { distinctId: m.distinctId, event: m.event, properties: { ...this.common, ...m.properties } },
      { timestamp: m.timestamp, uuid: m.uuid, disableGeoip: true },
    );
  }
  private common: Record<string, unknown> | undefined;
}

