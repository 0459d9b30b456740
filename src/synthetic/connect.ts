/**
 * Teleport Connect: organisations (root clusters) and app installations using features per RFD 97.
 */
import { anonymize } from '../events/anonymizer.js';
import { taxonomy } from '../events/taxonomy.js';
import { Rng, Weighted, hash32 } from './rng.js';
import { ARCH_MIX, CMC_FAILED_STEP_MIX, CONNECTOR_MIX, DAY_MS, HOUR_MS, MIN_MS, ORIGIN_MIX, OS_MIX, OS_VERSIONS, PROTOCOL_ADOPTION, TZ_OFFSETS, dayProfile, releaseIndexAt, timeInDay, versionOf } from './world.js';
import { Actor, EMPTY, bytes, q, type Names, type Sink } from './jsonl.js';
import type { GenerateOptions } from './types.js';

// ---------------------------------------------------------------------------------------------
// Connect: organisations (root clusters) and installations

interface Org {
  key: string;
  clusterAnon: string;
  connector: string;
  vnet: boolean;
}

export function buildOrgs(seed: number, count: number): { orgs: Org[]; pick: Weighted<number> } {
  const rng = new Rng(seed, 'orgs');
  const orgs: Org[] = [];
  const weights: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const key = rng.uuid(); // the root cluster's authClusterId (Connect's anonymization key)
    orgs.push({
      key,
      clusterAnon: anonymize(key, `teleport.org-${i}.example.com`),
      connector: CONNECTOR_MIX.pick(rng),
      vnet: rng.chance(0.2),
    });
    weights.push([i, 1 / Math.pow(i + 1, 0.8)]); // a few big customers, a long tail of small ones
  }
  return { orgs, pick: new Weighted(weights) };
}

const protocolFragments = new Map<string, Map<string, Buffer>>();
const fragments = new Map<string, Buffer>();
/** Encoded bytes of a small, often repeated property fragment. */
function fragment(s: string): Buffer {
  let b = fragments.get(s);
  if (b === undefined) fragments.set(s, (b = bytes(s)));
  return b;
}

export class Installation extends Actor {
  private readonly n: Names;
  readonly os: string;
  readonly arch: string;
  private readonly osVersion: string;
  private appIdx: number;
  readonly installedAt: number;
  readonly installedVersion: string;
  private readonly churnAt: number;
  private readonly tz: number;
  private readonly pActive: number;
  private readonly intensity: number;
  private readonly org: Org;
  private readonly ctxB: Buffer;
  private readonly ctx2B: Buffer | undefined;
  /** Protocols this user connects with; the first is their main one. */
  private readonly protocols: string[];
  private readonly usesAccessRequests: boolean;
  private readonly reviewer: boolean;
  private readonly fileTransfer: number;
  private cmc: 'none' | 'planned' | 'running' | 'gaveup';
  private cmcFailures = 0;
  private readonly cmcAfter: number;
  private needsLogin = true;
  private loginFragIdx = -1;
  private loginFrag: Buffer = EMPTY;
  private readonly upgradeP: number;

  constructor(sink: Sink, index: number, opts: GenerateOptions, orgs: { orgs: Org[]; pick: Weighted<number> }) {
    const rng = new Rng(opts.seed, 'installation', index);
    super(sink, hash32('installation', index), rng);
    this.n = sink.n;
    const r = this.rng;
    const id = r.uuid();
    this.setDistinctId(q(taxonomy().connect.distinctIdPrefix + id));
    this.os = OS_MIX.pick(r);
    this.arch = ARCH_MIX[this.os]!.pick(r);
    this.osVersion = OS_VERSIONS[this.os]!.pick(r);
    this.tz = TZ_OFFSETS.pick(r);
    const preexisting = r.chance(0.4);
    this.installedAt = preexisting
      ? opts.start - DAY_MS - Math.floor(r.float() * 200 * DAY_MS)
      : timeInDay(r, this.tz, opts.start + Math.floor(Math.sqrt(r.float()) * opts.days) * DAY_MS);
    // Installed at the newest release, or a bit older (download mirrors, internal packaging).
    this.appIdx = Math.max(0, releaseIndexAt(this.installedAt) - (r.chance(0.7) ? 0 : r.int(4)));
    this.installedVersion = versionOf(this.appIdx);
    this.churnAt = this.installedAt + (r.chance(0.3) ? r.lognormal(6 * DAY_MS, 0.9) : r.exponential(160 * DAY_MS));
    const kind = r.float();
    this.pActive = kind < 0.35 ? 0.85 : kind < 0.75 ? 0.5 : 0.18;
    this.intensity = Math.min(r.lognormal(8, 0.7), 80);
    this.upgradeP = r.pick([0.02, 0.06, 0.15]);
    this.org = orgs.orgs[orgs.pick.pick(r)]!;
    const np = this.n.np;
    const userName = `user-${index}`;
    this.ctxB = bytes(np.clusterName + ':' + q(this.org.clusterAnon) + ',' + np.userName + ':' + q(anonymize(this.org.key, userName)));
    if (r.chance(0.12)) {
      const other = orgs.orgs[orgs.pick.pick(r)]!;
      this.ctx2B = bytes(np.clusterName + ':' + q(other.clusterAnon) + ',' + np.userName + ':' + q(anonymize(other.key, userName)));
    }
    this.protocols = PROTOCOL_ADOPTION.filter(([, p]) => r.chance(p)).map(([name]) => name);
    if (this.protocols.length === 0) this.protocols.push(r.chance(0.7) ? 'ssh' : r.pick(PROTOCOL_ADOPTION)[0]);
    else if (this.protocols.length > 1 && r.chance(0.4)) this.protocols.push(this.protocols.shift()!); // not always ssh first
    this.usesAccessRequests = r.chance(0.22);
    this.reviewer = r.chance(0.07);
    this.fileTransfer = r.chance(0.18) ? r.lognormal(0.8, 0.6) : 0;
    // Connect My Computer is not available on Windows.
    this.cmc = this.os !== 'win32' && r.chance(0.12) ? 'planned' : 'none';
    this.cmcAfter = this.installedAt + r.exponential(10 * DAY_MS);
    this.setPerson();
  }

  private personIdx = -1;

  private setPerson(): void {
    this.personIdx = this.appIdx;
    const pp = this.n.pp;
    this.setPersonFragment(
      pp.os + ':' + q(this.os) + ',' + pp.arch + ':' + q(this.arch) + ',' + pp.osVersion + ':' + q(this.osVersion) + ',' +
        pp.appVersion + ':' + q(versionOf(this.appIdx)),
    );
  }

  simulateDay(dayStart: number): void {
    const dayEnd = dayStart + DAY_MS;
    if (dayEnd <= this.installedAt || dayStart >= this.churnAt) return;
    const r = this.rng;
    const n = this.n;
    const ev = n.connect;
    const np = n.np;
    const installDay = this.installedAt >= dayStart;
    let t0: number;
    if (installDay) t0 = this.installedAt;
    else {
      if (!r.chance(Math.min(this.pActive * dayProfile(this.tz, dayStart).relative, 0.97))) return;
      t0 = timeInDay(r, this.tz, dayStart);
    }
    const latest = releaseIndexAt(dayStart);
    if (latest > this.appIdx && r.chance(this.upgradeP)) {
      this.appIdx = latest;
      this.needsLogin = true;
    }
    const span = Math.min(r.lognormal(4 * HOUR_MS, 0.6), 12 * HOUR_MS);
    const at = () => t0 + MIN_MS + r.float() * span;
    const second = this.ctx2B !== undefined && r.chance(0.2);
    const ctxB = second ? this.ctx2B! : this.ctxB;
    if (this.needsLogin || r.chance(0.55)) {
      this.needsLogin = false;
      if (this.personIdx !== this.appIdx) this.setPerson(); // the login's $set updates the person from here on
      const pp = n.pp;
      if (this.loginFragIdx !== this.appIdx) {
        this.loginFragIdx = this.appIdx;
        this.loginFrag = bytes(
          ',' + np.connectorType + ':' + q(this.org.connector) + ',"$set_once":{' + pp.os + ':' + q(this.os) + ',' + pp.arch + ':' +
          q(this.arch) + '},"$set":{' + pp.osVersion + ':' + q(this.osVersion) + ',' + pp.appVersion + ':' + q(versionOf(this.appIdx)) + '}',
        );
      }
      this.out(t0, ev.clusterLogin!, ctxB, this.loginFrag);
    }
    const uses = r.poisson(this.intensity * (0.4 + 1.2 * r.float()));
    for (let i = 0; i < uses; i++) {
      const protocol = r.chance(0.6) ? this.protocols[0]! : r.pick(this.protocols);
      let origin: string;
      let through: string;
      if (this.org.vnet && protocol === 'app' && r.chance(0.6)) {
        origin = 'vnet';
        through = 'vnet';
      } else {
        origin = ORIGIN_MIX.pick(r);
        through = protocol === 'ssh' || protocol === 'desktop' ? 'proxy_service' : 'local_proxy';
      }
      // (through follows from protocol and origin, so two keys identify the fragment)
      let byOrigin = protocolFragments.get(protocol);
      if (byOrigin === undefined) protocolFragments.set(protocol, (byOrigin = new Map()));
      let frag = byOrigin.get(origin);
      if (frag === undefined) {
        frag = bytes(',' + np.protocol + ':' + q(protocol) + ',' + np.origin + ':' + q(origin) + ',' + np.accessThrough + ':' + q(through));
        byOrigin.set(origin, frag);
      }
      this.out(at(), ev.protocolUse!, ctxB, frag);
    }
    if (this.usesAccessRequests && r.chance(0.3)) {
      const t = at();
      this.out(t, ev.accessRequestCreate!, ctxB, fragment(',' + np.accessRequestKind + ':' + q(r.chance(0.6) ? 'role' : 'resource')));
      if (r.chance(0.7)) this.out(t + Math.min(r.lognormal(25 * MIN_MS, 1), 8 * HOUR_MS), ev.accessRequestAssumeRole!, ctxB);
    }
    if (this.reviewer && r.chance(0.45)) {
      const k = 1 + r.poisson(0.8);
      for (let i = 0; i < k; i++) this.out(at(), ev.accessRequestReview!, ctxB);
    }
    if (this.fileTransfer > 0) {
      const k = r.poisson(this.fileTransfer);
      for (let i = 0; i < k; i++) this.out(at(), ev.fileTransferRun!, ctxB, fragment(',' + np.fileTransferIsUpload + ':' + r.chance(0.4)));
    }
    if (this.cmc === 'planned' && dayStart >= this.cmcAfter - DAY_MS) {
      const t = t0 + Math.min(r.lognormal(10 * MIN_MS, 0.8), span);
      if (r.chance(0.78)) {
        this.cmc = 'running';
        this.out(t, ev.connectMyComputerSetup!, ctxB, fragment(',' + np.setupSuccess + ':true'));
        this.out(t + r.lognormal(20_000, 0.5), ev.connectMyComputerAgentStart!, ctxB);
      } else {
        this.out(t, ev.connectMyComputerSetup!, ctxB, fragment(',' + np.setupSuccess + ':false,' + np.setupFailedStep + ':' + q(CMC_FAILED_STEP_MIX.pick(r))));
        this.cmcFailures++;
        if (this.cmcFailures >= 2 || !r.chance(0.5)) this.cmc = 'gaveup';
      }
    } else if (this.cmc === 'running' && r.chance(0.6)) {
      this.out(t0 + r.lognormal(30_000, 0.5), ev.connectMyComputerAgentStart!, ctxB);
    }
  }
}

