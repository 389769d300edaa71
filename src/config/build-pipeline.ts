/**
 * Builds the in-memory stages every path shares (Lambda handlers and the daemon) from a validated
 * Config: parse (by source, `auto`) → mask (on by default) → configured transforms, in that order,
 * so masking sees parsed fields and no later transform or sink sees an unmasked secret.
 */
import type { BuildContext } from '../core/component.js';
import { describeError } from '../core/errors.js';
import type { PlannedTransform } from '../core/graph.js';
import { parseStage, type Transform } from '../core/pipeline.js';
import { createAutoSelect } from '../parsers/auto.js';
import { transforms as registry } from '../transforms/index.js';
import { buildMaskTransform, maskOptionsSchema } from '../transforms/mask.js';
import type { Config } from './schema.js';

export async function buildTransforms(cfg: Config, ctx: BuildContext = {}): Promise<Transform[]> {
  const out: Transform[] = [];
  if (cfg.parse === 'auto') out.push(parseStage({ select: createAutoSelect() }));
  if (cfg.mask !== false) {
    // `mask` was validated by the loader; parse again here to apply its defaults.
    out.push(await buildMaskTransform(maskOptionsSchema.parse({ ...(cfg.mask ?? {}), type: 'mask' }), ctx));
  }
  for (const t of cfg.transforms) {
    const spec = registry.find((s) => s.type === t.type);
    if (spec) out.push(await spec.create(t, ctx));
  }
  return out;
}

/**
 * The named transforms of a map-form `transforms` section, each with its wiring. Problems (a
 * factory that throws) are collected with their path, like validation problems.
 */
export async function buildGraphTransforms(
  cfg: Config,
  ctx: BuildContext = {},
  problems: string[] = [],
): Promise<PlannedTransform[]> {
  const out: PlannedTransform[] = [];
  for (const t of cfg.graphTransforms ?? []) {
    const spec = registry.find((s) => s.type === t.config.type);
    if (!spec) {
      problems.push(`transforms.${t.name}: unknown transform type "${t.config.type}"`);
      continue;
    }
    try {
      out.push({
        name: t.name,
        inputs: t.inputs,
        match: t.match,
        transform: await spec.create(t.config, ctx),
      });
    } catch (e) {
      problems.push(`transforms.${t.name}: ${describeError(e)}`);
    }
  }
  return out;
}
