/**
 * Shared by the CDK tests: a private copy of the built Lambda bundles (dist/ may be rebuilt by other
 * tests at any moment), synthesis to a temporary directory, cdk-nag's AwsSolutions pack, cfn-lint,
 * and the IAM statement checks every stack must pass.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { expect } from 'vitest';
import { cfnLint } from '../../test/infra/cfn-lint.js';
import { buildStack, type StackKind } from '../src/app.js';
import { type DeployConfig, parseDeployConfig } from '../src/config.js';

const root = new URL('../..', import.meta.url).pathname;

let staged: string | undefined;
export function stageBundles(): string {
  if (staged) return staged;
  execFileSync(process.execPath, [join(root, 'scripts', 'ensure.mjs')], { cwd: root, stdio: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), 'logferry-cdk-bundles-'));
  for (const f of readdirSync(join(root, 'dist', 'lambda')))
    cpSync(join(root, 'dist', 'lambda', f), join(dir, f), { recursive: true });
  process.env.LOGFERRY_LAMBDA_DIR = dir;
  staged = dir;
  return dir;
}

export interface Synthesized {
  template: Template;
  json: Record<string, any>;
  templateFile: string;
  nagViolations: { ruleName: string; paths: string[] }[];
  acknowledgements: { id: string; reason: string }[];
}

export function synthStack(kind: StackKind, doc: unknown): Synthesized {
  stageBundles();
  const cfg: DeployConfig = parseDeployConfig(doc);
  const out = mkdtempSync(join(tmpdir(), `logferry-cdk-${kind}-`));
  const built = buildStack(kind, cfg, out);
  const report = new AwsSolutionsChecks().validateScope(built.app);
  const assembly = built.app.synth();
  const art = assembly.getStackByName(built.stackName);
  const json = JSON.parse(readFileSync(art.templateFullPath, 'utf8'));
  const acknowledgements: { id: string; reason: string }[] = [];
  const visit = (c: import('constructs').IConstruct) => {
    for (const m of c.node.metadata)
      if (m.type === 'aws:cdk:acknowledged-rules')
        for (const [id, reason] of Object.entries(m.data as Record<string, string>))
          acknowledgements.push({ id, reason });
    for (const ch of c.node.children) visit(ch);
  };
  visit(built.app);
  return {
    template: Template.fromJSON(json),
    json,
    templateFile: art.templateFullPath,
    nagViolations: report.violations.map((v) => ({
      ruleName: v.ruleName,
      paths: v.violatingResources.map((r) => String(r.constructPath)),
    })),
    acknowledgements,
  };
}

export interface Statement {
  where: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Sid?: string;
}

/** Every policy statement in a template: IAM policies, role trust and inline policies, resource policies. */
export function allStatements(json: Record<string, any>): Statement[] {
  const out: Statement[] = [];
  const add = (where: string, doc: any) => {
    for (const s of doc?.Statement ?? []) out.push({ where, ...s });
  };
  for (const [id, r] of Object.entries<any>(json.Resources ?? {})) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') add(id, p.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') {
      add(`${id}(trust)`, p.AssumeRolePolicyDocument);
      for (const ip of p.Policies ?? []) add(id, ip.PolicyDocument);
    }
    if (
      r.Type === 'AWS::SNS::TopicPolicy' ||
      r.Type === 'AWS::SQS::QueuePolicy' ||
      r.Type === 'AWS::S3::BucketPolicy'
    )
      add(id, p.PolicyDocument);
    if (r.Type === 'AWS::OpenSearchService::Domain' && p.AccessPolicies) add(id, p.AccessPolicies);
  }
  return out;
}

const arr = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Flattens a CloudFormation value to text: tokens become `<Logical.Attr>` / `<AWS::Region>`. */
export function flat(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = v as Record<string, any>;
  if (o?.['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(flat).join(o['Fn::Join'][0]);
  if (o?.['Fn::GetAtt']) return `<${o['Fn::GetAtt'].join('.')}>`;
  if (o?.Ref) return `<${o.Ref}>`;
  if (o?.['Fn::ImportValue']) return `<import ${flat(o['Fn::ImportValue'])}>`;
  return JSON.stringify(v);
}

/**
 * The IAM rules every stack must pass: no NotAction/NotResource, and in every Allow no wildcard action, no
 * `Resource: *`; returns the resources that contain a wildcard (each test lists the ones it expects).
 */
export function checkIam(json: Record<string, any>): string[] {
  const wild: string[] = [];
  for (const s of allStatements(json)) {
    expect(s.NotAction, `${s.where} uses NotAction`).toBeUndefined();
    expect(s.NotResource, `${s.where} uses NotResource`).toBeUndefined();
    // A Deny may cover everything (the TLS-only bucket/queue/topic policies deny `s3:*`, `sqs:*`…).
    if (s.Effect !== 'Allow') continue;
    for (const a of arr(s.Action)) expect(a, `${s.where}: wildcard action ${a}`).not.toMatch(/\*/);
    if (s.where.endsWith('(trust)')) continue;
    for (const r of arr(s.Resource)) {
      const t = flat(r);
      expect(t, `${s.where}: Resource "*"`).not.toBe('*');
      if (/[*?]/.test(t)) wild.push(`${s.Sid ?? s.where}: ${t}`);
    }
  }
  return [...new Set(wild)].sort();
}

/** Statements (any policy) that grant `action`. */
export function grants(json: Record<string, any>, action: string): Statement[] {
  return allStatements(json).filter((s) => arr(s.Action).includes(action) && s.Effect === 'Allow');
}

export function resources(s: Statement): string[] {
  return arr(s.Resource).map(flat);
}

export function lint(file: string) {
  const findings = cfnLint([file]);
  return { errors: findings.filter((f) => f.Level === 'Error'), all: findings };
}

export function actionsOf(s: Statement): string[] {
  return arr(s.Action).slice().sort();
}
