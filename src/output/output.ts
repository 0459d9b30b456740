/**
 * The process's two streams as commands see them: results go to stdout only through report(),
 * diagnostics to stderr through warn()/info() (never mixed into json/csv; --quiet silences them).
 */
import { c } from './color.js';
import { terminalWidth, wrapText } from './width.js';
import { createProgress, type Progress, type ProgressOptions } from './progress.js';
import { isQueryPrint, renderQueries, renderUiQueries, RENDERERS, type CommandResult, type OutputFormat } from './report.js';

export interface OutputOptions {
  format: OutputFormat;
  quiet: boolean;
  /** Terminal columns tables and charts fit in (default: stdout's, when it is a terminal). */
  width?: number;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

export class Output {
  readonly format: OutputFormat;
  readonly quiet: boolean;
  readonly width: number | undefined;
  private readonly out: (s: string) => void;
  private readonly err: (s: string) => void;

  constructor(o: OutputOptions) {
    this.format = o.format;
    this.quiet = o.quiet;
    this.width = 'width' in o ? o.width : terminalWidth();
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
    const { stdout, stderr, tip } = RENDERERS[this.format](r, { width: this.width });
    if (stdout) this.out(stdout);
    if (stderr) this.err(this.fit(stderr.replace(/\n$/, '')).join('\n') + '\n');
    if (tip) this.info(tip);
  }

  /** A line that is the command's product on stdout (a served URL). */
  line(text: string): void {
    this.out(text + '\n');
  }

  warn(message: string): void {
    if (!this.quiet) this.err(this.fit(`warning: ${message}`).map((l) => c().yellow(l)).join('\n') + '\n');
  }

  info(message: string): void {
    if (!this.quiet) this.err(this.fit(message).map((l) => c().dim(l)).join('\n') + '\n');
  }

  /** A message's lines wrapped to the terminal's width. */
  private fit(message: string): string[] {
    return message.split('\n').flatMap((line) => wrapText(line, this.width, '  '));
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
