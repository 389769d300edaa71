/** Parser registry: one line per parser format (see core/component.ts). */
import * as z from 'zod';
import type { Registry } from '../core/component.js';
import type { Parser } from '../core/pipeline.js';
import { createEksAuthenticatorParser } from './eks-authenticator.js';
import { createJsonParser, jsonOptionsSchema } from './json.js';
import { createK8sAuditParser } from './k8s-audit.js';
import { createKlogParser } from './klog.js';
import { createLambdaPlatformParser } from './lambda-platform.js';
import { createLogfmtParser } from './logfmt.js';
import { createRegexParser, regexOptionsSchema } from './regex.js';
import { apacheOptionsSchema, createAccessLogParser, nginxOptionsSchema } from './access-log.js';
import { createLtsvParser, ltsvOptionsSchema } from './ltsv.js';
import { createSyslogParser, syslogOptionsSchema } from './syslog.js';

export const parsers: Registry<Parser> = [
  {
    type: 'json',
    summary:
      'JSON objects, also after a text prefix; nested structure kept; timeKey makes a field the event time.',
    schema: jsonOptionsSchema,
    create: (c) => createJsonParser(c),
  },
  {
    type: 'k8s-audit',
    summary: 'Kubernetes (EKS) audit events, structure kept.',
    schema: z.strictObject({ type: z.literal('k8s-audit') }),
    create: () => createK8sAuditParser(),
  },
  {
    type: 'klog',
    summary: 'klog lines of Kubernetes control-plane components.',
    schema: z.strictObject({ type: z.literal('klog'), structured: z.boolean().default(true) }),
    create: (c) => createKlogParser(c),
  },
  {
    type: 'eks-authenticator',
    summary: 'aws-iam-authenticator key=value lines.',
    schema: z.strictObject({ type: z.literal('eks-authenticator') }),
    create: () => createEksAuthenticatorParser(),
  },
  {
    type: 'logfmt',
    summary: 'Generic logfmt key=value lines.',
    schema: z.strictObject({ type: z.literal('logfmt') }),
    create: () => createLogfmtParser(),
  },
  {
    type: 'lambda-platform',
    summary: 'Lambda START/END/REPORT and runtime lines → Logs Insights @-fields.',
    schema: z.strictObject({ type: z.literal('lambda-platform') }),
    create: () => createLambdaPlatformParser(),
  },
  {
    type: 'regex',
    summary: 'Named groups of a user-supplied regular expression.',
    schema: regexOptionsSchema,
    create: (c) => createRegexParser(c),
  },
  {
    type: 'ltsv',
    summary: 'Labeled tab-separated values (label:value columns).',
    schema: ltsvOptionsSchema,
    create: (c) => createLtsvParser(c),
  },
  {
    type: 'apache',
    summary: 'Apache access logs, common and combined formats; the request time becomes the event time.',
    schema: apacheOptionsSchema,
    create: (c) => createAccessLogParser('apache', c),
  },
  {
    type: 'nginx',
    summary:
      'nginx access logs (combined, the default, and common); the request time becomes the event time.',
    schema: nginxOptionsSchema,
    create: (c) => createAccessLogParser('nginx', c),
  },
  {
    type: 'syslog',
    summary: 'Syslog lines, RFC 5424 and RFC 3164, PRI optional; the header time becomes the event time.',
    schema: syslogOptionsSchema,
    create: (c) => createSyslogParser(c),
  },
];
