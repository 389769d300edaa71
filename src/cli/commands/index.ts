/**
 * Subcommand registry: one line per command file, loaded on demand. `logferry run …` evaluates only
 * run.ts and what it imports, not the query engine, the OpenSearch client or the S3/SQS clients of
 * `query` and `replay` (tens of MB of resident memory a daemon would carry for nothing; the file
 * benches measure it). Help and unknown commands load them all.
 */
import type { Command } from 'commander';

export type Register = (program: Command) => void;

/** Command name → its registration, in the order `--help` lists them. */
export const commands: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./run.js')).registerRun,
  validate: async () => (await import('./validate.js')).registerValidate,
  tap: async () => (await import('./tap.js')).registerTap,
  replay: async () => (await import('./replay.js')).registerReplay,
  query: async () => (await import('./query.js')).registerQuery,
  recipes: async () => (await import('./recipes.js')).registerRecipes,
  console: async () => (await import('./console.js')).registerConsole,
  deploy: async () => (await import('./deploy.js')).registerDeploy,
  onboard: async () => (await import('./onboard.js')).registerOnboard,
  'iam-policy': async () => (await import('./iam-policy.js')).registerIamPolicy,
  import: async () => (await import('./import.js')).registerImport,
};

/** The registrations `argv` needs: its command's alone when it names one, else every command. */
export async function registrations(argv: readonly string[]): Promise<Register[]> {
  const load = Object.hasOwn(commands, argv[0] ?? '') ? [commands[argv[0]]] : Object.values(commands);
  return Promise.all(load.map((f) => f()));
}
