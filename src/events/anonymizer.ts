/**
 * Teleport's anonymizer (lib/utils/anonymizer.go; teleport-events.md §6): HMAC-SHA256 keyed by
 * the anonymization key (Cloud key, license key or cluster UUID; on Connect, the root cluster's
 * authClusterId), encoded as standard base64 with padding — 44 characters ending in '='.
 */
import { createHmac } from 'node:crypto';
import { UsageError } from '../errors.js';

export class Anonymizer {
  private readonly key: Buffer;
  constructor(key: string) {
    // Teleport's NewHMACAnonymizer rejects a blank key.
    if (key.trim() === '') throw new UsageError('anonymization key must not be empty or blank');
    this.key = Buffer.from(key, 'utf8');
  }

  /** AnonymizeString: base64(HMAC-SHA256(key, data)). */
  anonymizeString(data: string): string {
    return createHmac('sha256', this.key).update(data, 'utf8').digest('base64');
  }

  /** AnonymizeNonEmpty: the raw 32 bytes, or empty for empty input. */
  anonymizeNonEmpty(data: string): Buffer {
    if (data === '') return Buffer.alloc(0);
    return createHmac('sha256', this.key).update(data, 'utf8').digest();
  }
}

/** One-shot helper: base64 HMAC-SHA256 of `data` under `key`, as Teleport emits it. */
export function anonymize(key: string, data: string): string {
  return new Anonymizer(key).anonymizeString(data);
}
