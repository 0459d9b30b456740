/** Options and results of the synthetic generator. */
export interface GenerateOptions {
  seed: number;
  /** First day, UTC midnight (ms). */
  start: number;
  days: number;
  accounts: number;
  installations: number;
}

export interface GenerateStats {
  events: number;
  byEvent: Map<string, number>;
  /** Events simulated past the window end and left out. */
  dropped: number;
}

/** One Connect installation, as the CDN-downloads generator needs it. */
export interface InstallationInfo {
  firstSeen: Date;
  os: string;
  arch: string;
  version: string;
}
