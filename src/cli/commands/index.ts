/** Subcommand registry: one line per command file. */
import type { Command } from 'commander';
import { registerConsole } from './console.js';
import { registerDeploy } from './deploy.js';
import { registerIamPolicy } from './iam-policy.js';
import { registerImport } from './import.js';
import { registerOnboard } from './onboard.js';
import { registerQuery } from './query.js';
import { registerRecipes } from './recipes.js';
import { registerReplay } from './replay.js';
import { registerRun } from './run.js';
import { registerTap } from './tap.js';
import { registerValidate } from './validate.js';

export type Register = (program: Command) => void;

export const commands: Register[] = [
  registerRun,
  registerValidate,
  registerTap,
  registerReplay,
  registerQuery,
  registerRecipes,
  registerConsole,
  registerDeploy,
  registerOnboard,
  registerIamPolicy,
  registerImport,
];
