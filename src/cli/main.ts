// The `brainalign` command line: argument parsing and the mapping of every failure to an exit code.
import { Command, CommanderError, Option } from 'commander';
import { commandContext, type CommandContext } from './context';
import { CliError, EXIT } from './exit-codes';
import type { CliIo, GlobalOptions } from './io';
import { login } from './commands/login';
import { listRuns, type ListRunsOptions } from './commands/runs';
import { results } from './commands/results';
import { upload } from './commands/upload';
import { images } from './commands/images';
import { watch } from './commands/watch';
import { register } from './commands/register';
import { submit } from './commands/submit';
import { exportBundle, importBundle, pullBundle } from './commands/bundle';

export { EXIT } from './exit-codes';
export type { CliIo } from './io';

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  usage: unknown command or option, missing argument
  2  input refused: bad manifest or file, invalid argument, conflict, limit hit
  3  not found
  4  authentication or permission: missing, expired or revoked token, another lab's object
  5  server or network failure
  6  a run ended FAILED or CANCELLED
  7  watch --timeout elapsed before the run ended
  8  rate limited: wait and retry

Settings: --url/--token, else BRAINALIGN_URL/BRAINALIGN_TOKEN, else the file written by login
($BRAINALIGN_CONFIG or ~/.config/brainalign/config.json).`;

function program(io: CliIo, ran: { code: number }): Command {
  const root = new Command('brainalign')
    .description('Command-line client for a BrainAlign service: uploads, manifests, runs and results')
    .option('--json', 'machine-readable output on stdout')
    .option('--progress', 'draw progress on stderr even when it is not a terminal')
    .option('--url <url>', 'the service, e.g. http://127.0.0.1:4000')
    .option('--token <token>', 'API token (default: BRAINALIGN_TOKEN or the saved login)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run brainalign --help for usage)');

  const act =
    <A extends unknown[]>(fn: (ctx: CommandContext, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const ctx = commandContext(io, cmd.optsWithGlobals() as GlobalOptions);
      ran.code = await fn(ctx, ...(args.slice(0, -1) as A));
    };

  root
    .command('login')
    .description('check a token against the service and save url + token (file mode 0600)')
    .action(act((ctx) => login(ctx)));

  root
    .command('upload')
    .description('upload files (.npy, .npz members, HDF5 datasets as .npy, anything else as is); resumes interrupted uploads')
    .argument('<files...>')
    .option('--member <name>', '.npz: upload only this member (default: each member as its own artifact)')
    .option('--dataset <path>', 'HDF5: the dataset to convert, e.g. /betas/subj01')
    .addOption(new Option('--parallel <n>', 'parts sent at once').default(4).argParser(Number))
    .action(act((ctx, files: string[], o: { member?: string; dataset?: string; parallel?: number }) => upload(ctx, files, o)));

  root
    .command('images')
    .description('attach the images of a stimulus set from a directory or a .zip/.tar archive (matched by file stem or manifest.csv); resumes interrupted uploads')
    .argument('<source>', 'a directory of .jpg/.png/.webp files, or a .zip or .tar archive')
    .requiredOption('--stimulus-set <name>', 'the stimulus set (name or id)')
    .option('--dataset <name>', 'the dataset holding the stimulus set, when the name is not unique')
    .addOption(new Option('--parallel <n>', 'parts sent at once').default(4).argParser(Number))
    .action(act((ctx, source: string, o: { stimulusSet: string; dataset?: string; parallel?: number }) => images(ctx, source, o)));

  root
    .command('register')
    .description('create datasets, subjects, stimulus sets, models, feature and response sets from a YAML/JSON manifest (idempotent on names)')
    .argument('<manifest>')
    .option('--no-wait', 'do not wait for the imports to finish')
    .action(act((ctx, manifest: string, o: { wait: boolean }) => register(ctx, manifest, o)));

  root
    .command('submit')
    .description('submit the runs of a YAML/JSON manifest; resubmitting the same manifest returns the same runs')
    .argument('<manifest>')
    .option('--watch', 'wait for the runs to end (exit 6 if one fails)')
    .action(act((ctx, manifest: string, o: { watch?: boolean }) => submit(ctx, manifest, o)));

  root
    .command('watch')
    .description('follow a run until it ends: exit 0 on SUCCEEDED, 6 on FAILED or CANCELLED')
    .argument('<runId>')
    .addOption(new Option('--interval <seconds>', 'seconds between polls').default(0.5).argParser(Number))
    .addOption(new Option('--timeout <seconds>', 'give up after this long (exit 7)').argParser(Number))
    .action(act((ctx, id: string, o: { interval?: number; timeout?: number }) => watch(ctx, id, o)));

  root
    .command('runs')
    .description('list recent runs, newest first, with the model, subject and dataset each compares')
    .option('--kind <kind>', 'e.g. ENCODING_RIDGE')
    .option('--status <status>', 'QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED')
    .option('--model <model>', "only this model's runs (name or id)")
    .option('--dataset <dataset>', "only runs on this dataset's subjects (name or id)")
    .option('--subject <subject>', 'only runs on this subject (name, with --dataset, or id)')
    .option('--first <n>', 'how many', '20')
    .action(act((ctx, o: ListRunsOptions) => listRuns(ctx, o)));

  root
    .command('results')
    .description("print a run's scores (CSV by default, JSON with --format json or --json)")
    .argument('<runId>')
    .addOption(new Option('--format <format>', 'json or csv'))
    .option('--metric <metric>', 'only this metric, e.g. pearson_r.mean')
    .option('--roi <roi>', 'only this ROI')
    .option('--output <dir>', "download the run's output arrays into this directory (sha256 checked)")
    .action(act((ctx, id: string, o: { format?: string; output?: string; metric?: string; roi?: string }) => results(ctx, id, o)));

  const bundle = root.command('bundle').description("exchange signed leaderboard bundles with other sites");
  bundle
    .command('export')
    .description("this site's signed bundle of public scores, to a file or stdout")
    .option('--benchmark <name...>', 'only these benchmarks (default: all)')
    .option('--include-arrays', "carry the runs' small result arrays")
    .option('--output <file>', 'write the bundle here instead of stdout')
    .action(act((ctx, o: { benchmark?: string[]; includeArrays?: boolean; output?: string }) => exportBundle(ctx, o)));
  bundle
    .command('import')
    .description("verify another site's bundle and put its scores on the leaderboards (operators; idempotent)")
    .argument('<file>')
    .action(act((ctx, file: string) => importBundle(ctx, file)));
  bundle
    .command('pull')
    .description('fetch a trusted site\'s public bundle over HTTP and import it (operators)')
    .argument('<site>', 'the trusted site\'s name')
    .action(act((ctx, site: string) => pullBundle(ctx, site)));
  return root;
}

/** Runs the command line; returns the exit code instead of exiting, so it can run in-process. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const ran = { code: EXIT.OK as number };
  const json = argv.includes('--json');
  try {
    await program(io, ran).parseAsync(argv, { from: 'user' });
    return ran.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with code 0; everything else commander refuses is a usage error.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const e = err instanceof CliError ? err : new CliError(`Unexpected failure: ${(err as Error)?.stack ?? String(err)}`, EXIT.SERVER, 'INTERNAL');
    io.stderr.write(`error: ${e.message}\n`);
    if (json) io.stdout.write(`${JSON.stringify({ error: { code: e.code ?? null, exitCode: e.exitCode, message: e.message, ...(e.details ? { details: e.details } : {}) } }, null, 2)}\n`);
    return e.exitCode;
  }
}
