/** Subcommand registry: one line per command file. */
import type { Command } from 'commander';
import { registerDeploy } from './deploy.js';
import { registerQuery } from './query.js';
import { registerRecipes } from './recipes.js';
import { registerRun } from './run.js';

export type Register = (program: Command) => void;

export const commands: Register[] = [registerRun, registerQuery, registerRecipes, registerDeploy];
