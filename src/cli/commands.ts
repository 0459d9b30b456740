/**
 * Every command's registrar, in help order. A registrar defines options and an action that
 * lazy-imports the command's logic.
 */
import type { Command } from 'commander';
import { register as funnel } from '../commands/funnel.js';
import { register as steps } from '../commands/steps.js';
import { register as failures } from '../commands/failures.js';
import { register as ttfr } from '../commands/ttfr.js';
import { register as downloads } from '../commands/downloads.js';
import { register as adoption } from '../commands/adoption.js';
import { register as query } from '../commands/query.js';
import { register as pushCmd } from '../commands/push.js';
import { register as dau } from '../commands/dau.js';
import { register as features } from '../commands/features.js';
import { register as platforms } from '../commands/platforms.js';
import { register as lifecycle } from '../commands/lifecycle.js';
import { register as retention } from '../commands/retention.js';
import { register as stickiness } from '../commands/stickiness.js';
import { register as connectShare } from '../commands/connect-share.js';
import { register as seed } from '../commands/seed.js';
import { register as fixtures } from '../commands/fixtures.js';
import { register as replay } from '../commands/replay.js';
import { register as sandbox } from '../commands/sandbox.js';
import { register as smoke } from '../commands/smoke.js';
import { register as load } from '../commands/load.js';
import { register as storeCmd } from '../commands/store.js';

export type Registrar = (program: Command) => void;

export const registrars: Registrar[] = [
  funnel,
  ttfr,
  steps,
  failures,
  downloads,
  adoption,
  dau,
  features,
  platforms,
  lifecycle,
  retention,
  stickiness,
  connectShare,
  query,
  pushCmd,
  seed,
  fixtures,
  replay,
  sandbox,
  smoke,
  load,
  storeCmd,
];
