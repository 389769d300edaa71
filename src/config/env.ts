/**
 * Configuration for Lambda handlers, from the environment:
 *   LOGFERRY_CONFIG            YAML or JSON text
 *   LOGFERRY_CONFIG_PARAMETER  name of an SSM parameter holding it (SecureString allowed)
 * plus shorthand variables for the common cases (see `shorthands.ts`). Loaded once per container
 * (cold start) and cached; a bad config fails the invocation with every problem listed, so it shows
 * in the function's logs at once rather than as lost data.
 */
import type { Config } from './schema.js';
import { applyShorthands } from './shorthands.js';
import { validateConfig } from './validate.js';

/** The YAML reader loads only when there is config text (bench/lambda-bundles.ts). */
async function parseConfigText(text: string, origin: string): Promise<unknown> {
  return (await import('./load.js')).parseConfigText(text, origin);
}

export async function loadConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let doc: Record<string, unknown> = {};
  let origin = 'defaults';
  if (env.LOGFERRY_CONFIG) {
    origin = 'LOGFERRY_CONFIG';
    doc = ((await parseConfigText(env.LOGFERRY_CONFIG, origin)) as Record<string, unknown>) ?? {};
  } else if (env.LOGFERRY_CONFIG_PARAMETER) {
    origin = `SSM parameter ${env.LOGFERRY_CONFIG_PARAMETER}`;
    doc =
      // The SSM client loads only for this path (bench/lambda-bundles.ts).
      ((await parseConfigText(
        await (await import('../aws/ssm.js')).getParameter(env.LOGFERRY_CONFIG_PARAMETER, env),
        origin,
      )) as Record<string, unknown>) ?? {};
  }
  return validateConfig(applyShorthands(doc, env), origin);
}

let cached: Promise<Config> | undefined;

/** Once per container; a failed load is not cached so the next invocation tries again. */
export function configOnce(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  if (!cached) {
    cached = loadConfigFromEnv(env);
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}

export function resetConfigCache(): void {
  cached = undefined;
}
