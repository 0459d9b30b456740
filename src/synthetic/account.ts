/**
 * Discover accounts: Teleport clusters whose users run the Discover wizard, emitting what the web
 * UI really sends (teleport-real-flows.md), quirks included, along the same track definitions the
 * reports use.
 */
import { anonymize } from '../events/anonymizer.js';
import { Rng, Weighted, hash32 } from './rng.js';
import { connectMyComputerTrack, stepsFor, type Deployment, type Track } from './tracks.js';
import { loadResourceCatalog } from '../definitions/resources.js';
import { DAY_MS, HOUR_MS, LINK_CARD_POPULARITY, MIN_MS, RETRY_AFTER_ERROR, STEP_ABANDON, STEP_ERROR, errorTextsFor, STEP_MEDIAN_S, STEP_SKIP, TRACK_DIFFICULTY, TRACK_POPULARITY, TZ_OFFSETS, dayProfile, releaseIndexAt, timeInDay, versionOf } from './world.js';
import { Actor, flat, q, type Names, type Sink } from './jsonl.js';
import type { GenerateOptions } from './types.js';

// ---------------------------------------------------------------------------------------------
// Discover: accounts and wizard sessions

interface Choice {
  slug: string;
  resource: string;
  /** Steps after started/resourceSelection (empty for link and dialog cards). */
  steps: string[];
  difficulty: number;
}

export interface DiscoverCatalog {
  cloud: Weighted<Choice>;
  selfHosted: Weighted<Choice>;
}

export function buildCatalog(tracks: Track[]): DiscoverCatalog {
  const cmc = connectMyComputerTrack(tracks);
  const all = cmc ? [...tracks, cmc] : tracks;
  // selection-only cards (a dialog or a documentation link): nothing follows resourceSelection
  const cards = loadResourceCatalog().filter((c) => c.kind === 'dialog' || c.kind === 'link');
  const make = (dep: Deployment) => {
    const entries: [Choice, number][] = [];
    for (const t of all) {
      const steps = stepsFor(t, dep).slice(2);
      let w = TRACK_POPULARITY[t.slug] ?? 2;
      const aws = t.steps.includes('integrationAwsOidcConnect');
      if (dep === 'cloud' && aws) w *= 1.3;
      if (dep === 'self-hosted' && !aws && steps.length > 0) w *= 1.2;
      entries.push([{ slug: t.slug, resource: t.resource, steps, difficulty: TRACK_DIFFICULTY[t.slug] ?? 1 }, w]);
    }
    const dialogs = cards.filter((c) => c.kind === 'dialog');
    for (const c of dialogs) entries.push([{ slug: 'dialog', resource: c.resource, steps: [], difficulty: 1 }, TRACK_POPULARITY['app-http'] ?? 5]);
    const links = cards.filter((c) => c.kind === 'link');
    // demand is long-tailed: the first link cards (most wanted databases) draw most selections
    links.forEach((c, i) => entries.push([{ slug: 'link', resource: c.resource, steps: [], difficulty: 1 }, (LINK_CARD_POPULARITY * 2) / ((i + 2) * Math.log(links.length + 2))]));
    return new Weighted(entries);
  };
  return { cloud: make('cloud'), selfHosted: make('self-hosted') };
}

const CLOUD_ANON_KEY_PREFIX = 'teleport-cloud-anonymization-key-';

export class Account extends Actor {
  private readonly n: Names;
  private readonly isCloud: boolean;
  private readonly tz: number;
  readonly signupAt: number;
  private readonly signupInWindow: boolean;
  private firstSessionAt: number | undefined;
  private readonly rate: number;
  private readonly churnAt: number;
  private readonly lag: number;
  private versionIdx: number;
  private readonly clusters: string[];
  private readonly users: { anon: string; sso: boolean }[];
  private readonly preferred: Choice;
  private readonly catalog: Weighted<Choice>;
  private envelopes: string[] = [];
  private setFrag: string | undefined;
  private readonly pending: { t: number; choice: Choice }[] = [];
  private readonly accountId: string;
  private readonly licenseName: string;

  constructor(sink: Sink, index: number, opts: GenerateOptions, catalog: DiscoverCatalog) {
    const rng = new Rng(opts.seed, 'account', index);
    super(sink, hash32('account', index), rng);
    this.n = sink.n;
    const r = this.rng;
    this.accountId = r.uuid();
    this.setDistinctId(q('tp.' + this.accountId));
    this.isCloud = r.chance(0.62);
    this.tz = TZ_OFFSETS.pick(r);
    this.signupInWindow = r.chance(0.72);
    // New signups grow over the window (density rises linearly); the rest signed up earlier.
    this.signupAt = this.signupInWindow
      ? timeInDay(r, this.tz, opts.start + Math.floor(Math.sqrt(r.float()) * opts.days) * DAY_MS)
      : opts.start - Math.floor(r.float() * 240 * DAY_MS) - DAY_MS;
    // Most accounts open Discover a while after signup (minutes to weeks); some never do.
    if (this.signupInWindow && r.chance(0.86)) {
      this.firstSessionAt = this.signupAt + Math.min(r.lognormal(3 * HOUR_MS, 1.7), 40 * DAY_MS);
    }
    this.rate = Math.min(r.lognormal(0.45, 0.8), 4); // sessions per weekday when most engaged
    this.churnAt = this.signupAt + (r.chance(0.35) ? r.lognormal(12 * DAY_MS, 0.7) : r.exponential(300 * DAY_MS));
    this.lag = this.isCloud ? r.int(2) : 2 + r.int(10);
    this.versionIdx = Math.max(0, releaseIndexAt(opts.start) - this.lag);
    const key = this.isCloud ? CLOUD_ANON_KEY_PREFIX + opts.seed : r.uuid();
    const tenant = 'tenant-' + r.uuid().slice(0, 8);
    const nClusters = this.isCloud ? 1 : r.chance(0.25) ? 2 : 1;
    this.clusters = [];
    for (let c = 0; c < nClusters; c++) {
      const name = this.isCloud ? `${tenant}.teleport.sh` : `teleport-${c === 0 ? 'prod' : 'staging'}.${tenant}.internal`;
      this.clusters.push(anonymize(key, name));
    }
    const nUsers = Math.min(1 + Math.floor(r.lognormal(2, 0.9)), 40);
    const ssoAccount = r.chance(this.isCloud ? 0.4 : 0.65);
    this.users = [];
    for (let u = 0; u < nUsers; u++) {
      this.users.push({ anon: anonymize(key, `user-${u}@${tenant}`), sso: ssoAccount && (u > 0 || r.chance(0.5)) });
    }
    this.catalog = this.isCloud ? catalog.cloud : catalog.selfHosted;
    this.preferred = this.catalog.pick(r);
    this.licenseName = this.isCloud ? tenant : r.uuid();
    const person =
      this.n.cp.accountId + ':' + q(this.accountId) + ',' + this.n.cp.isCloud + ':' + this.isCloud + ',' +
      this.n.cp.licenseName + ':' + q(this.licenseName);
    this.setPersonFragment(person);
    this.setFrag = ',"$set":{' + person + '}';
    this.buildEnvelopes();
  }

  private buildEnvelopes(): void {
    const n = this.n;
    this.envelopes = this.clusters.map((c) =>
      flat(
        n.cp.clusterName + ':' + q(c) + ',' + n.cp.accountId + ':' + q(this.accountId) + ',' + n.cp.licenseName + ':' +
        q(this.licenseName) + ',' + n.cp.licenseAuthority + ':' + q(this.isCloud ? 'cloud' : 'sales') + ',' +
        n.cp.isCloud + ':' + this.isCloud + ',' + n.cp.teleportVersion + ':' + q(versionOf(this.versionIdx)),
      ),
    );
  }

  /** Cluster events: the first one the account sends in the window carries the $set of its person. */
  private emit(t: number, eventJson: string, props: string): void {
    if (this.setFrag !== undefined) {
      props += this.setFrag;
      this.setFrag = undefined;
    }
    this.out(t, eventJson, props);
  }

  simulateDay(dayStart: number): void {
    const dayEnd = dayStart + DAY_MS;
    const r = this.rng;
    if (dayEnd <= this.signupAt || dayStart >= this.churnAt) return;
    // Cloud tenants are upgraded by Teleport; self-hosted clusters upgrade now and then.
    const latest = releaseIndexAt(dayStart);
    if (this.isCloud ? latest - this.lag > this.versionIdx : latest > this.versionIdx && r.chance(0.03)) {
      this.versionIdx = this.isCloud ? latest - this.lag : latest;
      this.buildEnvelopes();
    }
    if (this.n.signup && this.signupInWindow && this.signupAt >= dayStart) {
      const user = this.users[0]!;
      this.emit(this.signupAt, this.n.signup, this.envelopes[0]! + ',' + this.n.dp.userName + ':' + q(user.anon));
    }
    if (this.firstSessionAt !== undefined && this.firstSessionAt >= dayStart && this.firstSessionAt < dayEnd) {
      this.session(this.firstSessionAt, r.chance(0.55) ? this.preferred : this.catalog.pick(r), true);
    }
    const started = this.signupInWindow ? this.firstSessionAt !== undefined && this.firstSessionAt < dayStart : true;
    if (started) {
      const ageDays = (dayStart - this.signupAt) / DAY_MS;
      const engagement = 0.25 + 0.75 * Math.exp(-ageDays / 21);
      const count = r.poisson(this.rate * engagement * dayProfile(this.tz, dayStart).relative);
      for (let i = 0; i < count; i++) {
        const choice = r.chance(0.6) ? this.preferred : this.catalog.pick(r);
        this.session(timeInDay(r, this.tz, dayStart), choice, false);
      }
    }
    // Restarts after leaving the wizard (a new session id each time).
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i]!;
      if (p.t < dayEnd) {
        this.pending.splice(i, 1);
        this.session(p.t, p.choice, false);
      } else i++;
    }
  }

  private session(t0: number, choice: Choice, first: boolean): void {
    const r = this.rng;
    const n = this.n;
    const dp = n.dp;
    const ev = n.discover;
    const user = r.chance(0.65) ? this.users[0]! : r.pick(this.users);
    const env = this.envelopes[this.envelopes.length > 1 && r.chance(0.3) ? 1 : 0]!;
    const sid = r.uuid();
    // metadata.sso survives only on `started` (teleport-real-flows.md)
    const head = flat(env + ',' + dp.userName + ':' + q(user.anon) + ',' + dp.sessionId + ':' + q(sid));
    const withStatus = (status: string) => ',' + dp.status + ':' + q('DISCOVER_STATUS_' + status);
    const withResource = ',' + dp.resource + ':' + q(choice.resource);
    let t = t0;
    this.emit(t, ev.started!, head + ',' + dp.sso + ':' + user.sso + withStatus('SUCCESS'));
    // Some people look at the resource cards and leave.
    if (r.chance(first ? 0.12 : 0.07)) return;
    t += r.lognormal(STEP_MEDIAN_S.resourceSelection! * 1000, 0.9);
    this.emit(t, ev.resourceSelection!, head + withResource + withStatus('SUCCESS'));
    // the enterprise SAML view sends `started` again with the same session id
    if (choice.slug === 'saml') this.emit(t + 400, ev.started!, head + withStatus('SUCCESS'));
    const d = choice.difficulty;
    const deployMood = this.isCloud ? 0.9 : 1.1;
    const rdsAuto = choice.slug.startsWith('rds-') && r.chance(0.7);
    const eksAuto = choice.slug === 'eks' && r.chance(0.4);
    for (let si = 0; si < choice.steps.length; si++) {
      const step = choice.steps[si]!;
      const name = ev[step]!;
      if (step === 'completed') {
        // sent only when the user leaves the Finished page: a closed tab loses it
        t += r.lognormal(STEP_MEDIAN_S.completed! * 1000, 0.8);
        if (!r.chance(0.3)) this.emit(t, name, head + withResource + withStatus('SUCCESS'));
        return;
      }
      // the EKS auto-enroll variant creates a discovery config during enrollment; the other does not
      if (step === 'createDiscoveryConfig' && choice.slug === 'eks' && !eksAuto) continue;
      // RDS auto-deploy: iampolicy SKIPPED was sent just before deployService SUCCESS (below)
      if (step === 'databaseConfigureIamPolicy' && rdsAuto) continue;
      if (step === 'testConnection' && eksAuto) {
        t += Math.min(r.lognormal(4000, 0.6), MIN_MS);
        this.emit(t, name, head + withResource + withStatus('SKIPPED'));
        continue;
      }
      const dur = () => Math.min(r.lognormal((STEP_MEDIAN_S[step] ?? 60) * 1000 * Math.sqrt(d), 0.95), 3 * HOUR_MS);
      const abandon = Math.min((STEP_ABANDON[step] ?? 0.05) * d * deployMood * (first ? 1.3 : 1), 0.9);
      const extras = (status: string) => this.extras(step, choice, status);
      if (r.chance(abandon)) {
        t += dur() * r.float();
        this.emit(t, name, head + withResource + withStatus('ABORTED') + extras('ABORTED'));
        // going back from the first view to the cards: a new session starts on the same click
        if (si === 0 && r.chance(0.35)) this.pending.push({ t: t + 300 + r.int(700), choice: this.catalog.pick(r) });
        else this.maybeRestart(t, choice);
        return;
      }
      // leaving to create an AWS integration: ABORTED now, SUCCESS with the same id on return
      if (step === 'integrationAwsOidcConnect' && r.chance(0.3)) {
        t += dur() * r.float();
        this.emit(t, name, head + withResource + withStatus('ABORTED'));
        t += Math.min(r.lognormal(9 * MIN_MS, 0.8), 2 * HOUR_MS);
      }
      if (r.chance(STEP_SKIP[step] ?? 0)) {
        t += Math.min(r.lognormal(8000, 0.7), 10 * MIN_MS);
        this.emit(t, name, head + withResource + withStatus('SKIPPED') + extras('SKIPPED'));
        continue;
      }
      const errRate = Math.min((STEP_ERROR[step] ?? 0.03) * Math.sqrt(d), 0.6);
      let errors = 0;
      while (r.chance(errRate)) {
        t += dur() * (0.3 + 0.7 * r.float());
        const texts = errorTextsFor(step, choice.resource);
        this.emit(t, name, head + withResource + withStatus('ERROR') + ',' + dp.error + ':' + q(texts[Math.min(texts.length - 1, Math.floor(texts.length * r.float() ** 2.2))]!) + extras('ERROR'));
        errors++;
        if (errors >= 3 || !r.chance(RETRY_AFTER_ERROR)) {
          t += r.lognormal(45_000, 0.9);
          this.emit(t, name, head + withResource + withStatus('ABORTED') + extras('ABORTED'));
          this.maybeRestart(t, choice);
          return;
        }
        t += r.lognormal(90_000, 0.8);
      }
      t += dur();
      if (step === 'deployService' && rdsAuto) {
        // auto-deploy skips the IAM policy view: its SKIPPED goes out a second before deployService
        this.emit(t - 1000, ev.databaseConfigureIamPolicy!, head + withResource + withStatus('SKIPPED'));
      } else if (step === 'deployService' && (choice.slug === 'postgres' || choice.slug === 'mysql')) {
        // self-hosted databases send deployService twice: UNSPECIFIED first, then the real method
        this.emit(t, name, head + withResource + withStatus('SUCCESS') + ',' + dp.deployMethod + ':"DEPLOY_METHOD_UNSPECIFIED",' + dp.deployType + ':"DEPLOY_TYPE_UNSPECIFIED"');
        t += r.lognormal(40_000, 0.6);
      }
      this.emit(t, name, head + withResource + withStatus('SUCCESS') + this.extras(step, choice, 'SUCCESS', rdsAuto));
      // EC2 sends createDiscoveryConfig twice
      if (step === 'createDiscoveryConfig' && choice.slug === 'ec2') this.emit(t + r.int(800), name, head + withResource + withStatus('SUCCESS') + extras('SUCCESS'));
    }
  }

  private maybeRestart(t: number, choice: Choice): void {
    const r = this.rng;
    if (r.chance(0.3)) {
      this.pending.push({ t: t + Math.min(r.lognormal(20 * MIN_MS, 1.2), 5 * DAY_MS), choice: r.chance(0.75) ? choice : this.catalog.pick(r) });
    }
  }

  /** Step-specific fields (deploy method/type, discovery config method, counts). */
  private extras(step: string, choice: Choice, status: string, auto = false): string {
    const dp = this.n.dp;
    const r = this.rng;
    switch (step) {
      case 'deployService': {
        let method = 'DEPLOY_METHOD_MANUAL';
        let type = 'DEPLOY_TYPE_INSTALL_SCRIPT';
        if (status === 'SKIPPED') {
          method = 'DEPLOY_METHOD_UNSPECIFIED';
          type = 'DEPLOY_TYPE_UNSPECIFIED';
        } else if (choice.slug.startsWith('rds-')) {
          method = auto ? 'DEPLOY_METHOD_AUTO' : 'DEPLOY_METHOD_MANUAL';
          type = auto ? 'DEPLOY_TYPE_AMAZON_ECS' : 'DEPLOY_TYPE_INSTALL_SCRIPT';
        } else if (choice.slug === 'connect-my-computer') {
          method = 'DEPLOY_METHOD_AUTO';
          type = 'DEPLOY_TYPE_UNSPECIFIED';
        } else if (choice.slug === 'kubernetes') {
          type = 'DEPLOY_TYPE_UNSPECIFIED';
        }
        return ',' + dp.deployMethod + ':' + q(method) + ',' + dp.deployType + ':' + q(type);
      }
      case 'createDiscoveryConfig':
        // the UI leaves config_method unset in practice
        return ',' + dp.configMethod + ':"CONFIG_METHOD_UNSPECIFIED"';
      case 'databaseEnrollRds':
        return ',' + dp.selectedResourcesCount + ':1';
      case 'autoDiscoveredResources':
        return status === 'SUCCESS' ? ',' + dp.autoDiscoveredCount + ':' + Math.floor(r.lognormal(5, 1.1)) : ',' + dp.autoDiscoveredCount + ':0';
      default:
        return '';
    }
  }
}

