/**
 * The process's two streams as commands see them: results go to stdout only through report(),
 * diagnostics to stderr through warn()/info() (never mixed into json/csv; --quiet silences them).
 */
import { c } from './color.js';
import { createProgress, type Progress, type ProgressOptions } from './progress.js';
import { isQueryPrint, renderQueries, renderUiQueries, RENDERERS, type CommandResult, type OutputFormat } from './report.js';

export interface OutputOptions {
  format: OutputFormat;
  quiet: boolean;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

export class Output {
  readonly format: OutputFormat;
  readonly quiet: boolean;
  private readonly out: (s: string) => void;
  private readonly err: (s: string) => void;

  constructor(o: OutputOptions) {
    this.format = o.format;
    this.quiet = o.quiet;
    this.out = o.stdout ?? ((s) => void process.stdout.write(s));
    this.err = o.stderr ?? ((s) => void process.stderr.write(s));
  }

  /** Print a command's result in the chosen format. */
  result(r: CommandResult): void {
    if (!r) return;
    if (isQueryPrint(r)) {
      if (r.ui) {
        const { stdout, links } = renderUiQueries(r.queries, r.ui.projectUrl);
        this.out(stdout);
        // the links are what was asked for: on stderr (stdout stays JSON), even with --quiet
        links.forEach((l, i) => this.err(`${links.length > 1 ? `query ${i + 1}: ` : ''}${l}\n`));
        if (!r.ui.projectUrl) this.info('set --host and --project-id (or POSTHOG_HOST, POSTHOG_PROJECT_ID) for a link that opens each query as a new insight');
        return;
      }
      this.out(renderQueries(r.queries));
      if (r.note) this.info(r.note);
      return;
    }
    if (r.status && this.quiet && (this.format === 'table' || this.format === 'markdown')) return;
    const { stdout, stderr, tip } = RENDERERS[this.format](r);
    if (stdout) this.out(stdout);
    if (stderr) this.err(stderr);
    if (tip) this.info(tip);
  }

  /** A line that is the command's product on stdout (a served URL). */
  line(text: string): void {
    this.out(text + '\n');
  }

  warn(message: string): void {
    if (!this.quiet) this.err(c().yellow(`warning: ${message}`) + '\n');
  }

  info(message: string): void {
    if (!this.quiet) this.err(c().dim(message) + '\n');
  }

  /** Problems a long-running command logs and survives (always shown, plain). */
  error(message: string): void {
    this.err(message + '\n');
  }

  /** A progress line on stderr (a redrawn line on a terminal, plain periodic lines otherwise; none with --quiet). */
  progress(o: Omit<ProgressOptions, 'quiet' | 'write'>): Progress {
    return createProgress({ ...o, quiet: this.quiet, write: this.err });
  }

  /** Progress and status lines of long-running commands (plain, unstyled). */
  status(message: string): void {
    if (!this.quiet) this.err(message + '\n');
  }
}
